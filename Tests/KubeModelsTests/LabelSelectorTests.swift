import Testing

@testable import KubeModels

@Suite("LabelSelector")
struct LabelSelectorTests {
    static let objects: [String: [String: String]] = [
        "a": ["app": "a", "tier": "web", "env": "a"],
        "b": ["app": "a", "tier": "x", "env": "b"],
        "c": ["app": "c", "env": "prod", "k": "1", "example.com/owner": "me"],
        "d": [:],
    ]

    struct MatchCase: Sendable, CustomTestStringConvertible {
        let selector: String
        let matching: Set<String>
        var testDescription: String { selector.isEmpty ? "(empty)" : selector }
    }

    static let matchCases: [MatchCase] = [
        MatchCase(selector: "", matching: ["a", "b", "c", "d"]),
        MatchCase(selector: "app=a", matching: ["a", "b"]),
        MatchCase(selector: "app==a", matching: ["a", "b"]),
        MatchCase(selector: "app!=a", matching: ["c", "d"]),
        MatchCase(selector: "app=a,tier!=x", matching: ["a"]),
        MatchCase(selector: "env in (a,b)", matching: ["a", "b"]),
        MatchCase(selector: "env notin (a,b)", matching: ["c", "d"]),
        MatchCase(selector: "k", matching: ["c"]),
        MatchCase(selector: "!k", matching: ["a", "b", "d"]),
        MatchCase(selector: "  app = a ,  env in ( a , b )  ", matching: ["a", "b"]),
        MatchCase(selector: "example.com/owner=me", matching: ["c"]),
        MatchCase(selector: "k>0", matching: ["c"]),
        MatchCase(selector: "k<1", matching: []),
        MatchCase(selector: "tier=", matching: []),
        MatchCase(selector: "app in (a),!k,tier", matching: ["a", "b"]),
        MatchCase(selector: "env in (in,notin)", matching: []),
    ]

    @Test("matches exactly the expected objects", arguments: matchCases)
    func matching(_ testCase: MatchCase) throws {
        let selector = try LabelSelector(parsing: testCase.selector)
        let matched = Set(Self.objects.filter { selector.matches($0.value) }.keys)
        #expect(matched == testCase.matching)
    }

    @Test func parsesEveryOperator() throws {
        let selector = try LabelSelector(parsing: "a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g,h>4,i<5")
        #expect(selector.requirements.map(\.operator) == [.equals, .doubleEquals, .notEquals, .in, .notIn, .exists, .doesNotExist, .greaterThan, .lessThan])
        #expect(selector.description == "a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g,h>4,i<5")
    }

    @Test func requirementsAreSortedByKey() throws {
        let selector = try LabelSelector(parsing: "z=1,a=2")
        #expect(selector.requirements.map(\.key) == ["a", "z"])
    }

    @Test func matchesObjectLabels() throws {
        let selector = try LabelSelector(parsing: "app=a")
        #expect(selector.matches(object: json(#"{"metadata":{"labels":{"app":"a"}}}"#)))
        #expect(!selector.matches(object: json(#"{"metadata":{}}"#)))
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let selector: String
        let message: String
        let position: Int
        var testDescription: String { selector }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(selector: "app=a,", message: "found '', expected: identifier after ','", position: 6),
        ErrorCase(selector: "app in (a,b", message: "unable to parse requirement: found '', expected: ',' or ')'", position: 11),
        ErrorCase(selector: "app in a", message: "unable to parse requirement: found 'a' expected: '('", position: 7),
        ErrorCase(selector: "app a", message: "unable to parse requirement: found 'a', expected: in, notin, =, ==, !=, gt, lt", position: 4),
        ErrorCase(selector: "=a", message: "found '=', expected: !, identifier, or 'end of string'", position: 0),
        ErrorCase(selector: "!k=v", message: "found '=', expected: ',' or 'end of string'", position: 2),
        ErrorCase(selector: "a=b c", message: "found 'c', expected: ',' or 'end of string'", position: 4),
        ErrorCase(selector: "a=(", message: "unable to parse requirement: found '(', expected: identifier", position: 2),
        ErrorCase(
            selector: "k>x", message: #"unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer"#,
            position: 0),
    ]

    @Test("syntax errors use the apiserver text and give the position", arguments: errorCases)
    func syntaxErrors(_ testCase: ErrorCase) {
        let error = #expect(throws: KubeModelsError.self) {
            try LabelSelector(parsing: testCase.selector)
        }
        #expect(error?.code == .labelSelectorSyntax)
        #expect(error?.message == testCase.message)
        #expect(error?.position == testCase.position)
        #expect(error?.description.contains("label selector \"\(testCase.selector)\"") == true)
    }

    @Test func invalidKeyAndValue() {
        let badKey = #expect(throws: KubeModelsError.self) { try LabelSelector(parsing: "Bad_/x=y") }
        #expect(badKey?.message.hasPrefix(#"unable to parse requirement: <nil>: Invalid value: "Bad_/x": prefix part a lowercase RFC 1123 subdomain"#) == true)
        let badValue = #expect(throws: KubeModelsError.self) { try LabelSelector(parsing: "a=-x") }
        #expect(badValue?.message.contains("a valid label must be an empty string") == true)
        let longName = String(repeating: "a", count: 64)
        let tooLong = #expect(throws: KubeModelsError.self) { try LabelSelector(parsing: longName) }
        #expect(tooLong?.message.contains("name part must be no more than 63 characters") == true)
    }

    @Test func labelKeySyntax() {
        #expect(LabelSelector.labelKeyProblems("app") == nil)
        #expect(LabelSelector.labelKeyProblems("example.com/my_Key-1.x") == nil)
        #expect(LabelSelector.labelKeyProblems("/x") == "prefix part must be non-empty")
        #expect(LabelSelector.labelKeyProblems("a/b/c") != nil)
        #expect(LabelSelector.labelKeyProblems("x.") != nil)
        #expect(LabelSelector.labelValueProblems("") == nil)
    }

    @Test func structuredForm() throws {
        let selector = try LabelSelector(
            structured: json(
                #"{"matchLabels":{"app":"a"},"matchExpressions":[{"key":"env","operator":"In","values":["a","b"]},{"key":"k","operator":"DoesNotExist"}]}"#
            ))
        #expect(selector.description == "app=a,env in (a,b),!k")
        let matched = Set(Self.objects.filter { selector.matches($0.value) }.keys)
        #expect(matched == ["a", "b"])

        let notIn = try LabelSelector(
            structured: json(#"{"matchExpressions":[{"key":"env","operator":"NotIn","values":["a"]},{"key":"app","operator":"Exists"}]}"#))
        #expect(Set(Self.objects.filter { notIn.matches($0.value) }.keys) == ["b", "c"])
    }

    @Test func structuredEmptyAndNull() throws {
        #expect(try LabelSelector(structured: json("{}")).matches(["x": "y"]))
        #expect(!(try LabelSelector(structured: .null)).matches(["x": "y"]))
    }

    @Test func structuredErrors() {
        let badOp = #expect(throws: KubeModelsError.self) {
            try LabelSelector(structured: json(#"{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}"#))
        }
        #expect(badOp?.message == #""Gt" is not a valid label selector operator"#)
        let noValues = #expect(throws: KubeModelsError.self) {
            try LabelSelector(structured: json(#"{"matchExpressions":[{"key":"a","operator":"In","values":[]}]}"#))
        }
        #expect(noValues?.message.contains("values set can't be empty") == true)
        let extraValues = #expect(throws: KubeModelsError.self) {
            try LabelSelector(structured: json(#"{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}"#))
        }
        #expect(extraValues?.message.contains("values set must be empty") == true)
    }
}
