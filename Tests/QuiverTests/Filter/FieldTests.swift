import Quiver
import Testing

@Suite struct FieldTests {
    @Test func briefExample() throws {
        let built = Field("section") == "libs" && Field("size") < 1000
        #expect(built == (try Filter.parse(#"section == "libs" and size < 1000"#)))
    }

    @Test func operatorsMatchTheText() throws {
        let pairs: [(Filter, String)] = [
            (Field("n") == 1, "n == 1"),
            (Field("n") != "x", #"n != "x""#),
            (Field("n") < 2.5, "n < 2.5"),
            (Field("n") <= -3, "n <= -3"),
            (Field("n") > true, "n > true"),
            (Field("n") >= ["a", "b"], #"n >= ["a", "b"]"#),
            (Field("p").isIn(["required", "important"]), #"p in ["required", "important"]"#),
            (Field("p").isIn([]), "p in []"),
            (Field("tags").contains("gpu"), #"tags contains "gpu""#),
            (Field("size").between(3, 7), "size between 3 and 7"),
            (Field("size").in(3...7), "size between 3 and 7"),
            (Field("size").in(0..<10), "0 <= size < 10"),
            (Field("score").in(1.0...2), "score between 1.0 and 2.0"),
            (Field("score").in(0.25...0.75), "score between 0.25 and 0.75"),
            (Field("score").in(0.25..<0.75), "0.25 <= score < 0.75"),
            (!(Field("arch") == "all"), #"not arch == "all""#),
            (!(Field("a") == 1 || Field("b") == 2), "not (a == 1 or b == 2)"),
        ]
        for (built, text) in pairs {
            #expect(built == (try Filter.parse(text)), "\(text)")
        }
    }

    @Test func andAndOrFlattenLikeTheParser() throws {
        let a = Field("a") == 1
        let b = Field("b") == 2
        let c = Field("c") == 3
        let d = Field("d") == 4
        #expect((a && b && c) == (try Filter.parse("a == 1 and b == 2 and c == 3")))
        #expect((a && (b && c)) == (try Filter.parse("a == 1 and b == 2 and c == 3")))
        #expect((a || b || c || d) == (try Filter.parse("a == 1 or b == 2 or c == 3 or d == 4")))
        #expect(
            (a && b || c && d) == (try Filter.parse("a == 1 and b == 2 or c == 3 and d == 4"))
        )
        #expect((a && (b || c)) == (try Filter.parse("a == 1 and (b == 2 or c == 3)")))
        #expect(!(!a) == (try Filter.parse("not not a == 1")))
    }
}
