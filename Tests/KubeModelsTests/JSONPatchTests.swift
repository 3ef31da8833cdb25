import Testing

@testable import KubeModels

@Suite("JSONPatch (RFC 6902)")
struct JSONPatchTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let document: String
        let patch: String
        /// nil when the patch must fail.
        let result: String?
        var testDescription: String { name }
    }

    /// The examples of RFC 6902 appendix A (A.13, a duplicate JSON member, is a parser matter).
    static let rfcCases: [Case] = [
        Case(
            name: "A.1 add an object member", document: #"{"foo":"bar"}"#,
            patch: #"[{"op":"add","path":"/baz","value":"qux"}]"#, result: #"{"baz":"qux","foo":"bar"}"#),
        Case(
            name: "A.2 add an array element", document: #"{"foo":["bar","baz"]}"#,
            patch: #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, result: #"{"foo":["bar","qux","baz"]}"#),
        Case(
            name: "A.3 remove an object member", document: #"{"baz":"qux","foo":"bar"}"#,
            patch: #"[{"op":"remove","path":"/baz"}]"#, result: #"{"foo":"bar"}"#),
        Case(
            name: "A.4 remove an array element", document: #"{"foo":["bar","qux","baz"]}"#,
            patch: #"[{"op":"remove","path":"/foo/1"}]"#, result: #"{"foo":["bar","baz"]}"#),
        Case(
            name: "A.5 replace a value", document: #"{"baz":"qux","foo":"bar"}"#,
            patch: #"[{"op":"replace","path":"/baz","value":"boo"}]"#, result: #"{"baz":"boo","foo":"bar"}"#),
        Case(
            name: "A.6 move a value", document: #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
            patch: #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
            result: #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        Case(
            name: "A.7 move an array element", document: #"{"foo":["all","grass","cows","eat"]}"#,
            patch: #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, result: #"{"foo":["all","cows","eat","grass"]}"#),
        Case(
            name: "A.8 test a value: success", document: #"{"baz":"qux","foo":["a",2,"c"]}"#,
            patch: #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
            result: #"{"baz":"qux","foo":["a",2,"c"]}"#),
        Case(
            name: "A.9 test a value: error", document: #"{"baz":"qux"}"#,
            patch: #"[{"op":"test","path":"/baz","value":"bar"}]"#, result: nil),
        Case(
            name: "A.10 add a nested member object", document: #"{"foo":"bar"}"#,
            patch: #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#,
            result: #"{"foo":"bar","child":{"grandchild":{}}}"#),
        Case(
            name: "A.11 ignore unrecognized elements", document: #"{"foo":"bar"}"#,
            patch: #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, result: #"{"foo":"bar","baz":"qux"}"#),
        Case(
            name: "A.12 add to a nonexistent target", document: #"{"foo":"bar"}"#,
            patch: #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#, result: nil),
        Case(
            name: "A.14 ~ escape ordering", document: #"{"/":9,"~1":10}"#,
            patch: #"[{"op":"test","path":"/~01","value":10}]"#, result: #"{"/":9,"~1":10}"#),
        Case(
            name: "A.15 compare strings and numbers", document: #"{"/":9,"~1":10}"#,
            patch: #"[{"op":"test","path":"/~01","value":"10"}]"#, result: nil),
        Case(
            name: "A.16 add an array value", document: #"{"foo":["bar"]}"#,
            patch: #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, result: #"{"foo":["bar",["abc","def"]]}"#),
    ]

    static let extraCases: [Case] = [
        Case(
            name: "~1 addresses a slash in a key", document: #"{"a/b":1}"#,
            patch: #"[{"op":"replace","path":"/a~1b","value":2}]"#, result: #"{"a/b":2}"#),
        Case(
            name: "add at the end index", document: #"{"a":[1]}"#,
            patch: #"[{"op":"add","path":"/a/1","value":2}]"#, result: #"{"a":[1,2]}"#),
        Case(
            name: "add past the end", document: #"{"a":[1]}"#,
            patch: #"[{"op":"add","path":"/a/2","value":2}]"#, result: nil),
        Case(
            name: "remove past the end", document: #"{"a":[1]}"#,
            patch: #"[{"op":"remove","path":"/a/1"}]"#, result: nil),
        Case(
            name: "leading zero index", document: #"{"a":[1,2]}"#,
            patch: #"[{"op":"remove","path":"/a/01"}]"#, result: nil),
        Case(
            name: "remove with - is invalid", document: #"{"a":[1]}"#,
            patch: #"[{"op":"remove","path":"/a/-"}]"#, result: nil),
        Case(
            name: "replace a missing member", document: #"{}"#,
            patch: #"[{"op":"replace","path":"/a","value":1}]"#, result: nil),
        Case(
            name: "replace the root", document: #"{"a":1}"#,
            patch: #"[{"op":"replace","path":"","value":[1]}]"#, result: "[1]"),
        Case(
            name: "copy", document: #"{"a":{"b":1}}"#,
            patch: #"[{"op":"copy","from":"/a","path":"/c"}]"#, result: #"{"a":{"b":1},"c":{"b":1}}"#),
        Case(
            name: "move into own child", document: #"{"a":{"b":1}}"#,
            patch: #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#, result: nil),
        Case(
            name: "add null value", document: #"{}"#,
            patch: #"[{"op":"add","path":"/a","value":null}]"#, result: #"{"a":null}"#),
        Case(
            name: "bad pointer escape", document: #"{}"#,
            patch: #"[{"op":"add","path":"/a~2","value":1}]"#, result: nil),
        Case(
            name: "pointer without a slash", document: #"{}"#,
            patch: #"[{"op":"add","path":"a","value":1}]"#, result: nil),
        Case(
            name: "test objects deeply", document: #"{"a":{"x":[1,{"y":true}]}}"#,
            patch: #"[{"op":"test","path":"/a","value":{"x":[1,{"y":true}]}}]"#, result: #"{"a":{"x":[1,{"y":true}]}}"#),
    ]

    @Test("RFC 6902 appendix A", arguments: rfcCases)
    func rfcExamples(_ testCase: Case) throws {
        try check(testCase)
    }

    @Test("pointers, bounds and the other operations", arguments: extraCases)
    func extraExamples(_ testCase: Case) throws {
        try check(testCase)
    }

    func check(_ testCase: Case, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let patch = try JSONPatch(json: json(testCase.patch))
        let document = json(testCase.document)
        if let expected = testCase.result {
            #expect(try patch.apply(to: document) == json(expected), sourceLocation: sourceLocation)
        } else {
            #expect(throws: KubeModelsError.self, sourceLocation: sourceLocation) { try patch.apply(to: document) }
        }
    }

    @Test func failedTestRejectsWholePatchAndNamesTheOperation() throws {
        let configMap = json(#"{"data":{"a":"yes"}}"#)
        let patch = try JSONPatch(
            json: json(#"[{"op":"add","path":"/data/b","value":"1"},{"op":"test","path":"/data/a","value":"no"}]"#))
        var document = configMap
        let error = #expect(throws: KubeModelsError.self) { document = try patch.apply(to: document) }
        #expect(error?.code == .jsonPatchTestFailed)
        #expect(error?.operationIndex == 1)
        #expect(error?.subject == "json patch operation 1 (test /data/a)")
        #expect(error?.status.code == 422)
        #expect(document == configMap)
    }

    @Test func failureNamesIndexAndPath() throws {
        let patch = try JSONPatch(
            json: json(#"[{"op":"remove","path":"/a"},{"op":"remove","path":"/a"}]"#))
        let error = #expect(throws: KubeModelsError.self) { try patch.apply(to: json(#"{"a":1}"#)) }
        #expect(error?.code == .jsonPatchFailed)
        #expect(error?.operationIndex == 1)
        #expect(error?.description.contains("json patch operation 1 (remove /a)") == true)
    }

    @Test func malformedDocuments() {
        let notArray = #expect(throws: KubeModelsError.self) { try JSONPatch(json: json(#"{"op":"add"}"#)) }
        #expect(notArray?.code == .jsonPatchMalformed)
        let unknownOp = #expect(throws: KubeModelsError.self) {
            try JSONPatch(json: json(#"[{"op":"add","path":"/a","value":1},{"op":"frob","path":"/a"}]"#))
        }
        #expect(unknownOp?.operationIndex == 1)
        let missingValue = #expect(throws: KubeModelsError.self) { try JSONPatch(json: json(#"[{"op":"add","path":"/a"}]"#)) }
        #expect(missingValue?.code == .jsonPatchMalformed)
        let missingFrom = #expect(throws: KubeModelsError.self) { try JSONPatch(json: json(#"[{"op":"move","path":"/a"}]"#)) }
        #expect(missingFrom?.code == .jsonPatchMalformed)
    }

    @Test func jsonRoundTrip() throws {
        let text = #"[{"op":"add","path":"/a","value":1},{"op":"move","from":"/a","path":"/b"},{"op":"test","path":"/b","value":1}]"#
        #expect(try JSONPatch(json: json(text)).json == json(text))
    }
}
