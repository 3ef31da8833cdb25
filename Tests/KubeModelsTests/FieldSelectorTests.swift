import Testing

@testable import KubeModels

@Suite("FieldSelector")
struct FieldSelectorTests {
    static let podFields: Set<String> = ["spec.nodeName", "status.phase", "spec.restartPolicy"]
    static let pod = json(
        #"{"metadata":{"name":"p1","namespace":"t"},"spec":{"restartPolicy":"Always"},"status":{"phase":"Running"}}"#)

    struct MatchCase: Sendable, CustomTestStringConvertible {
        let selector: String
        let matches: Bool
        var testDescription: String { selector }
    }

    static let matchCases: [MatchCase] = [
        MatchCase(selector: "metadata.name=p1", matches: true),
        MatchCase(selector: "metadata.name==p1", matches: true),
        MatchCase(selector: "metadata.name!=p1", matches: false),
        MatchCase(selector: "metadata.namespace=t,status.phase=Running", matches: true),
        MatchCase(selector: "status.phase=Running,spec.restartPolicy!=Always", matches: false),
        MatchCase(selector: "spec.nodeName=", matches: true),
        MatchCase(selector: "spec.nodeName!=", matches: false),
        MatchCase(selector: "", matches: true),
    ]

    @Test("evaluates against an object", arguments: matchCases)
    func matching(_ testCase: MatchCase) throws {
        let selector = try FieldSelector(parsing: testCase.selector)
        #expect(try selector.matches(Self.pod, supportedFields: Self.podFields) == testCase.matches)
    }

    @Test func unsupportedFieldMessage() throws {
        let selector = try FieldSelector(parsing: "spec.bogus=1")
        let error = #expect(throws: KubeModelsError.self) {
            try selector.matches(Self.pod, supportedFields: Self.podFields)
        }
        #expect(error?.code == .fieldLabelNotSupported)
        #expect(error?.message == "field label not supported: spec.bogus")
        #expect(error?.status.code == 400)
        #expect(error?.status.message == "field label not supported: spec.bogus")
    }

    @Test func extrasAreNotSupportedByDefault() throws {
        let selector = try FieldSelector(parsing: "status.phase=Running")
        #expect(throws: KubeModelsError.self) { try selector.validate() }
        try selector.validate(supportedFields: Self.podFields)
    }

    @Test func operatorsAndEscapes() throws {
        let selector = try FieldSelector(parsing: #"a=b,c!=d,e==f,g=x\,y\=z"#)
        #expect(selector.requirements.map(\.operator) == [.equals, .notEquals, .doubleEquals, .equals])
        #expect(selector.requirements.last?.value == "x,y=z")
        #expect(selector.description == #"a=b,c!=d,e==f,g=x\,y\=z"#)
    }

    @Test func syntaxError() {
        let error = #expect(throws: KubeModelsError.self) { try FieldSelector(parsing: "metadata.name=a,bogus") }
        #expect(error?.code == .fieldSelectorSyntax)
        #expect(error?.message == "invalid selector: 'metadata.name=a,bogus'; can't understand 'bogus'")
        #expect(error?.position == 16)
    }

    @Test func nonStringFieldValues() {
        let object = json(#"{"spec":{"unschedulable":true,"replicas":3}}"#)
        #expect(FieldSelector.fieldValue("spec.unschedulable", in: object) == "true")
        #expect(FieldSelector.fieldValue("spec.replicas", in: object) == "3")
        #expect(FieldSelector.fieldValue("spec.missing", in: object) == "")
    }
}
