import ArgumentParser
import Quiver

/// `quiver create COLLECTION --dimensions N --kind … --metric … [--field …]`.
struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a collection (and the store, if it does not exist)."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The new collection's name.")
    var collection: String

    @OptionGroup var schemaOptions: SchemaOptions

    func run() throws {
        let schema = try schemaOptions.schema()
        let database = try storeOptions.open(readOnly: false)
        try database.createCollection(collection, schema: schema)
        print("created \(quote(collection)): \(describe(schema))")
    }
}
