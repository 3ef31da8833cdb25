import Testing

@testable import KubeModels

@Suite("MergePatch (RFC 7386)")
struct MergePatchTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let original: String
        let patch: String
        let result: String
        var testDescription: String { "\(original) + \(patch)" }
    }

    /// The examples of RFC 7386 appendix A.
    static let rfcCases: [Case] = [
        Case(original: #"{"a":"b"}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        Case(original: #"{"a":"b"}"#, patch: #"{"b":"c"}"#, result: #"{"a":"b","b":"c"}"#),
        Case(original: #"{"a":"b"}"#, patch: #"{"a":null}"#, result: #"{}"#),
        Case(original: #"{"a":"b","b":"c"}"#, patch: #"{"a":null}"#, result: #"{"b":"c"}"#),
        Case(original: #"{"a":["b"]}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        Case(original: #"{"a":"c"}"#, patch: #"{"a":["b"]}"#, result: #"{"a":["b"]}"#),
        Case(original: #"{"a":{"b":"c"}}"#, patch: #"{"a":{"b":"d","c":null}}"#, result: #"{"a":{"b":"d"}}"#),
        Case(original: #"{"a":[{"b":"c"}]}"#, patch: #"{"a":[1]}"#, result: #"{"a":[1]}"#),
        Case(original: #"["a","b"]"#, patch: #"["c","d"]"#, result: #"["c","d"]"#),
        Case(original: #"{"a":"b"}"#, patch: #"["c"]"#, result: #"["c"]"#),
        Case(original: #"{"a":"foo"}"#, patch: "null", result: "null"),
        Case(original: #"{"a":"foo"}"#, patch: #""bar""#, result: #""bar""#),
        Case(original: #"{"e":null}"#, patch: #"{"a":1}"#, result: #"{"e":null,"a":1}"#),
        Case(original: #"[1,2]"#, patch: #"{"a":"b","c":null}"#, result: #"{"a":"b"}"#),
        Case(original: #"{}"#, patch: #"{"a":{"bb":{"ccc":null}}}"#, result: #"{"a":{"bb":{}}}"#),
    ]

    @Test("RFC 7386 appendix A", arguments: rfcCases)
    func rfcExamples(_ testCase: Case) {
        #expect(MergePatch.apply(json(testCase.patch), to: json(testCase.original)) == json(testCase.result))
    }

    @Test func containerListIsReplacedWhole() {
        let deployment = json(#"{"spec":{"template":{"spec":{"containers":[{"name":"c1","image":"a"}]}}}}"#)
        let patch = json(#"{"spec":{"template":{"spec":{"containers":[{"name":"c2","image":"x"}]}}}}"#)
        let result = MergePatch.apply(patch, to: deployment)
        #expect(result[path: ["spec", "template", "spec", "containers"]] == json(#"[{"name":"c2","image":"x"}]"#))
    }

    @Test func diffRoundTrips() {
        let old = json(#"{"a":1,"b":{"c":2,"d":3},"e":[1]}"#)
        let new = json(#"{"a":1,"b":{"c":5},"e":[2],"f":"x"}"#)
        let patch = MergePatch.diff(from: old, to: new)
        #expect(patch == json(#"{"b":{"c":5,"d":null},"e":[2],"f":"x"}"#))
        #expect(MergePatch.apply(patch, to: old) == new)
    }
}
