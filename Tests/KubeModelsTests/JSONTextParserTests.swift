import Foundation
import KubeModels
import Testing

/// `JSONValue(parsing:)` parses JSON itself (no `JSONDecoder` probing, see `JSONTextParser`):
/// checked against Foundation's parser on valid text, and against the grammar on invalid text.
@Suite struct JSONTextParserTests {
    /// What Foundation's `JSONDecoder` makes of the same text (through `JSONValue`'s Codable).
    static func reference(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test(arguments: [
        #"{}"#, #"[]"#, #""""#, "0", "-0", "12", "-3.25", "1e10", "1.5E-7", "123456789012345", "true", "false", "null",
        #"{"a": [1, 2.5, "x", null, true, {"b": {}}], "c": "d"}"#,
        #"  {"sp" : [ 1 ,2 ] }  "#, "\n\t[\r\n1]\n",
        #""quote \" backslash \\ slash \/ controls \b\f\n\r\t""#,
        #""unicode \u00e9 \u4e2d \ud83d\ude00 raw é 中 😀""#,
        #"{"kind":"Status","code":404,"details":{"name":"x","causes":[{"field":"spec"}]}}"#,
    ])
    func agreesWithFoundation(text: String) throws {
        #expect(try JSONValue(parsing: text) == Self.reference(text))
    }

    @Test(arguments: [
        "", " ", "01", "1.", ".5", "+1", "-", "1e", "1e+", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "[1 2]", "1 2",
        #""\x""#, "\"\u{01}\"", "\"open", "tru", "nul", "[", "{", #""\ud800""#, #""\udc00""#, #""\u12""#, "1e400", "NaN",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }

    /// A key given twice: the last one counts, as in Go's encoding/json (the API server's).
    @Test func aDuplicateKeyKeepsTheLastValue() throws {
        #expect(try JSONValue(parsing: #"{"dup": 1, "dup": 2}"#) == ["dup": 2])
    }

    @Test func nestingIsBoundedAndErrorsSayWhere() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let error = #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: deep) }
        #expect(error?.message.contains("nested more than 512") == true)
        let trailing = #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: #"{"a": 1} x"#) }
        #expect(trailing?.message == "invalid JSON: unexpected text after the JSON value at byte 9")
    }

    /// Whatever `JSONValue` writes, it reads back (random documents, including every escape).
    @Test func roundTripsWhatItWrites() throws {
        var generator = SystemRandomNumberGenerator()
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 8)
            case 3:
                let characters = Array("aZ09 \"\\/\n\t\u{1}\u{1f}é中😀")
                return .string(String((0..<Int.random(in: 0...12, using: &generator)).map { _ in characters.randomElement(using: &generator)! }))
            case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth + 1) })
            default:
                return .object(Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &generator)).map { ("k\($0)", value(depth + 1)) }))
            }
        }
        for _ in 0..<300 {
            let document = value(0)
            let text = String(decoding: document.encoded(), as: UTF8.self)
            #expect(try JSONValue(parsing: text) == document, "\(text)")
            #expect(try JSONValue(parsing: text) == Self.reference(text), "\(text)")
        }
    }
}
