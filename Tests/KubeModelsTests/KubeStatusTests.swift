import Testing

@testable import KubeModels

@Suite("KubeStatus")
struct KubeStatusTests {
    struct MessageCase: Sendable, CustomTestStringConvertible {
        let status: KubeStatus
        let message: String
        let reason: KubeStatus.Reason
        let code: Int
        var testDescription: String { message }
    }

    static let messageCases: [MessageCase] = [
        MessageCase(
            status: .notFound(resource: "configmaps", name: "c1"), message: #"configmaps "c1" not found"#,
            reason: .notFound, code: 404),
        MessageCase(
            status: .notFound(resource: "deployments", group: "apps", name: "d"),
            message: #"deployments.apps "d" not found"#, reason: .notFound, code: 404),
        MessageCase(
            status: .notFound(resource: "namespaces", name: "x"), message: #"namespaces "x" not found"#,
            reason: .notFound, code: 404),
        MessageCase(
            status: .unknownResource(), message: "the server could not find the requested resource", reason: .notFound,
            code: 404),
        MessageCase(
            status: .alreadyExists(resource: "configmaps", name: "c1"), message: #"configmaps "c1" already exists"#,
            reason: .alreadyExists, code: 409),
        MessageCase(
            status: .conflict(resource: "configmaps", name: "c1"),
            message:
                #"Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again"#,
            reason: .conflict, code: 409),
        MessageCase(
            status: .invalid(
                kind: "ConfigMap", name: "Bad_Name",
                causes: [.init(.invalid, field: "metadata.name", value: "Bad_Name", detail: "a lowercase RFC 1123 subdomain")]),
            message: #"ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain"#,
            reason: .invalid, code: 422),
        MessageCase(
            status: .invalid(
                kind: "Pod", name: "p",
                causes: [
                    .init(.required, field: "spec.containers"),
                    .init(.invalid, field: "spec.replicas", value: -1, detail: "must be greater than or equal to 0"),
                ]),
            message:
                #"Pod "p" is invalid: [spec.containers: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"#,
            reason: .invalid, code: 422),
        MessageCase(
            status: .badRequest(#"strict decoding error: unknown field "spec.foo""#),
            message: #"strict decoding error: unknown field "spec.foo""#, reason: .badRequest, code: 400),
        MessageCase(
            status: .forbidden(
                resource: "configmaps", name: "c1",
                detail: "unable to create new content in namespace t because it is being terminated"),
            message:
                #"configmaps "c1" is forbidden: unable to create new content in namespace t because it is being terminated"#,
            reason: .forbidden, code: 403),
        MessageCase(
            status: .methodNotAllowed(resource: "events", verb: "PATCH"),
            message: #"PATCH is not supported on resources of kind "events""#, reason: .methodNotAllowed, code: 405),
        MessageCase(
            status: .unsupportedMediaType(supported: ["application/json-patch+json", "application/merge-patch+json"]),
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json",
            reason: .unsupportedMediaType, code: 415),
        MessageCase(status: .gone("gone"), message: "gone", reason: .gone, code: 410),
        MessageCase(
            status: .tooOldResourceVersion(requested: "5", oldest: "100"),
            message: "too old resource version: 5 (100)", reason: .expired, code: 410),
        MessageCase(
            status: .genericUnprocessable(), message: "the server rejected our request due to an error in our request",
            reason: .invalid, code: 422),
    ]

    @Test("message, reason and code match the apiserver", arguments: messageCases)
    func messageFormats(_ testCase: MessageCase) {
        #expect(testCase.status.message == testCase.message)
        #expect(testCase.status.reason == testCase.reason)
        #expect(testCase.status.code == testCase.code)
        #expect(testCase.status.status == .failure)
    }

    @Test("JSON round trip keeps every field", arguments: messageCases)
    func roundTrip(_ testCase: MessageCase) throws {
        let decoded = try KubeStatus(json: testCase.status.json)
        #expect(decoded.json == testCase.status.json)
        #expect(decoded.message == testCase.status.message)
        #expect(decoded.code == testCase.status.code)
    }

    @Test func notFoundWireForm() {
        let expected = json(
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"c1\" not found","reason":"NotFound","details":{"name":"c1","kind":"configmaps"},"code":404}"#
        )
        #expect(KubeStatus.notFound(resource: "configmaps", name: "c1").json == expected)
    }

    @Test func groupAppearsInDetails() {
        let status = KubeStatus.notFound(resource: "deployments", group: "apps", name: "d")
        #expect(status.json["details"] == json(#"{"name":"d","group":"apps","kind":"deployments"}"#))
    }

    @Test func invalidCarriesCausesAndKind() {
        let status = KubeStatus.invalid(
            kind: "ConfigMap", name: "x",
            causes: [.init(.forbidden, field: "metadata.finalizers", detail: "no new finalizers can be added if the object is being deleted")])
        #expect(status.details?.kind == "ConfigMap")
        #expect(
            status.json["details"]?["causes"]
                == json(
                    #"[{"reason":"FieldValueForbidden","message":"Forbidden: no new finalizers can be added if the object is being deleted","field":"metadata.finalizers"}]"#
                ))
        #expect(
            status.message
                == #"ConfigMap "x" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted"#
        )
    }

    @Test func duplicateCausesPrintOnce() {
        let cause = KubeStatus.FieldError(.required, field: "data")
        let status = KubeStatus.invalid(kind: "ConfigMap", name: "x", causes: [cause, cause])
        #expect(status.message == #"ConfigMap "x" is invalid: data: Required value"#)
        #expect(status.details?.causes.count == 2)
    }

    @Test func fieldErrorShortcuts() {
        #expect(KubeStatus.FieldError.required("spec.containers").description == "spec.containers: Required value")
        #expect(
            KubeStatus.FieldError.notSupported("spec.restartPolicy", value: "Sometimes", supported: ["Always", "Never"]).description
                == #"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never""#)
        #expect(
            KubeStatus.FieldError.invalid("spec.storageClassName", value: "b", detail: "field is immutable").description
                == #"spec.storageClassName: Invalid value: "b": field is immutable"#)
        #expect(KubeStatus.FieldError.duplicate("spec.ports[1]", value: ["port": 80]).description == #"spec.ports[1]: Duplicate value: {"port":80}"#)
        #expect(KubeStatus.FieldError.forbidden("metadata.finalizers", detail: "x").body == "Forbidden: x")
    }

    @Test func strategicMergePatchOnCustomResource() {
        let status = KubeStatus.unsupportedMediaType(supported: KubeStatus.customResourcePatchTypes)
        #expect(status.code == 415)
        #expect(
            status.message
                == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        )
    }

    @Test func unknownResourceHasEmptyDetails() {
        #expect(KubeStatus.unknownResource().json["details"] == .object([:]))
    }

    @Test func successOmitsCodeAndMessage() throws {
        let status = KubeStatus.success(resource: "pods", name: "p", uid: "u-1")
        let wire = status.json
        #expect(wire["status"] == "Success")
        #expect(wire["code"] == nil)
        #expect(wire["message"] == nil)
        #expect(wire["details"] == json(#"{"name":"p","kind":"pods","uid":"u-1"}"#))
        #expect(try KubeStatus(json: wire) == status)
    }

    @Test func applyConflictCauses() {
        let status = KubeStatus.applyConflict(
            message: #"Apply failed with 1 conflict: conflict with "other": .data.a"#,
            causes: [.init(reason: "FieldManagerConflict", message: #"conflict with "other""#, field: ".data.a")])
        #expect(status.code == 409)
        #expect(status.reason == .conflict)
        #expect(status.json["details"]?["causes"]?.arrayValue?.first?["reason"] == "FieldManagerConflict")
    }

    @Test func decodingRejectsOtherKinds() {
        let error = #expect(throws: KubeModelsError.self) {
            try KubeStatus(json: json(#"{"kind":"ConfigMap"}"#))
        }
        #expect(error?.code == .statusMalformed)
    }

    @Test func decodesRealServerBody() throws {
        let status = try KubeStatus(
            json: json(
                #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"x","reason":"Expired","code":410}"#
            ))
        #expect(status.reason == .expired)
        #expect(status.code == 410)
        #expect(status.details == nil)
    }
}
