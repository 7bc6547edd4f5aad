@_spi(Fuzzing) import QuiverFiles

/// libFuzzer's entry point: reads the bytes as JSON, a float array, JSON Lines vector
/// records and JSON Lines multi-vector documents.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Safety: libFuzzer passes `count` readable bytes at `start` for this call.
    let bytes = unsafe Array(UnsafeRawBufferPointer(start: start, count: count))
    QuiverFilesFuzzing.json(bytes)
    QuiverFilesFuzzing.multiVectorJSONLines(bytes)
    return 0
}
