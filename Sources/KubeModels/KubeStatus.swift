import Foundation

/// The Kubernetes `Status` object (`kind: Status`, `apiVersion: v1`): the body of every non-2xx
/// answer, and of some successful DELETEs.
///
/// The static constructors reproduce the apiserver's own message formats (from
/// `k8s.io/apimachinery/pkg/api/errors`), because kubectl prints `Error from server (<reason>):
/// <message>` verbatim and tests and users grep for those strings.
public struct KubeStatus: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Outcome: String, Sendable, Hashable {
        case success = "Success"
        case failure = "Failure"
    }

    /// `metav1.StatusReason`: a machine-readable word kubectl shows in parentheses.
    public struct Reason: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        public static let unknown: Reason = ""
        public static let notFound: Reason = "NotFound"
        public static let alreadyExists: Reason = "AlreadyExists"
        public static let conflict: Reason = "Conflict"
        public static let invalid: Reason = "Invalid"
        public static let badRequest: Reason = "BadRequest"
        public static let unauthorized: Reason = "Unauthorized"
        public static let forbidden: Reason = "Forbidden"
        public static let methodNotAllowed: Reason = "MethodNotAllowed"
        public static let notAcceptable: Reason = "NotAcceptable"
        public static let unsupportedMediaType: Reason = "UnsupportedMediaType"
        public static let gone: Reason = "Gone"
        public static let expired: Reason = "Expired"
        public static let requestEntityTooLarge: Reason = "RequestEntityTooLarge"
        public static let tooManyRequests: Reason = "TooManyRequests"
        public static let internalError: Reason = "InternalError"
        public static let serviceUnavailable: Reason = "ServiceUnavailable"
        public static let timeout: Reason = "Timeout"
    }

    /// One `details.causes[]` entry. `reason` is the cause type (`FieldValueInvalid`,
    /// `FieldManagerConflict`, ...).
    public struct Cause: Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public var field: String?

        public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// `details`: which object the status is about. `kind` holds the plural resource for most
    /// errors, but the Kind for Invalid (the apiserver is inconsistent; we copy it).
    public struct Details: Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]
        public var retryAfterSeconds: Int?

        public init(
            name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
            causes: [Cause] = [], retryAfterSeconds: Int? = nil
        ) {
            self.name = name
            self.group = group
            self.kind = kind
            self.uid = uid
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// The field-validation error types used as cause reasons in Invalid statuses.
    public enum FieldErrorType: String, Sendable, Hashable, CaseIterable {
        case notFound = "FieldValueNotFound"
        case required = "FieldValueRequired"
        case duplicate = "FieldValueDuplicate"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case internalError = "InternalError"
        case typeInvalid = "FieldValueTypeInvalid"

        /// The words the apiserver prints for this type (`Invalid value`, `Required value`, ...).
        public var phrase: String {
            switch self {
            case .notFound: "Not found"
            case .required: "Required value"
            case .duplicate: "Duplicate value"
            case .invalid, .typeInvalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .forbidden: "Forbidden"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            case .internalError: "Internal error"
            }
        }

        /// Whether the offending value is printed after the phrase.
        var showsValue: Bool {
            switch self {
            case .required, .forbidden, .tooLong, .internalError: false
            default: true
            }
        }
    }

    /// One validation failure, as `field.Error` renders it: `<field>: <phrase>[: <value>][: <detail>]`.
    public struct FieldError: Sendable, Hashable, CustomStringConvertible {
        public var type: FieldErrorType
        public var field: String
        public var value: JSONValue?
        public var detail: String

        public init(_ type: FieldErrorType, field: String, value: JSONValue? = nil, detail: String = "") {
            self.type = type
            self.field = field
            self.value = value
            self.detail = detail
        }

        /// The message without the field path; this is what goes into `causes[].message`.
        public var body: String {
            var text = type.phrase
            if type.showsValue, let value {
                switch value {
                // Strings are quoted Go-style; numbers and bools bare; the rest as JSON.
                case .string(let s): text += ": " + KubeStatus.goQuoted(s)
                default: text += ": " + value.jsonText
                }
            }
            if !detail.isEmpty { text += ": " + detail }
            return text
        }

        public var description: String { "\(field): \(body)" }

        /// `<field>: Required value[: detail]`.
        public static func required(_ field: String, detail: String = "") -> FieldError {
            FieldError(.required, field: field, detail: detail)
        }

        /// `<field>: Invalid value: <value>[: detail]`.
        public static func invalid(_ field: String, value: JSONValue, detail: String = "") -> FieldError {
            FieldError(.invalid, field: field, value: value, detail: detail)
        }

        /// `<field>: Forbidden[: detail]`, e.g. a finalizer added to an object being deleted.
        public static func forbidden(_ field: String, detail: String = "") -> FieldError {
            FieldError(.forbidden, field: field, detail: detail)
        }

        /// `<field>: Unsupported value: <value>: supported values: "a", "b"`.
        public static func notSupported(_ field: String, value: JSONValue, supported: [String]) -> FieldError {
            let detail = supported.isEmpty ? "" : "supported values: " + supported.map(KubeStatus.goQuoted).joined(separator: ", ")
            return FieldError(.notSupported, field: field, value: value, detail: detail)
        }

        /// `<field>: Duplicate value: <value>`.
        public static func duplicate(_ field: String, value: JSONValue) -> FieldError {
            FieldError(.duplicate, field: field, value: value)
        }
    }

    public var status: Outcome
    public var message: String
    public var reason: Reason
    public var details: Details?
    /// HTTP status code; 0 is left out of the JSON, as the apiserver does for Success bodies.
    public var code: Int

    public init(
        status: Outcome = .failure, message: String = "", reason: Reason = .unknown,
        details: Details? = nil, code: Int
    ) {
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }

    public var description: String {
        reason.rawValue.isEmpty ? message : "\(message) (\(reason.rawValue), \(code))"
    }

    // MARK: - Constructors in the apiserver's formats

    /// `configmaps "c1" not found`, or `deployments.apps "d" not found` for a non-core group.
    public static func notFound(resource: String, group: String = "", name: String) -> KubeStatus {
        KubeStatus(
            message: "\(qualified(resource, group)) \(goQuoted(name)) not found", reason: .notFound,
            details: Details(name: name, group: nonEmpty(group), kind: resource), code: 404)
    }

    /// The 404 for a path that names no known resource type (kubectl turns it into
    /// `the server doesn't have a resource type "x"`).
    public static func unknownResource() -> KubeStatus {
        KubeStatus(
            message: "the server could not find the requested resource", reason: .notFound,
            details: Details(), code: 404)
    }

    /// `configmaps "c1" already exists`.
    public static func alreadyExists(resource: String, group: String = "", name: String) -> KubeStatus {
        KubeStatus(
            message: "\(qualified(resource, group)) \(goQuoted(name)) already exists", reason: .alreadyExists,
            details: Details(name: name, group: nonEmpty(group), kind: resource), code: 409)
    }

    /// The optimistic-concurrency failure. `detail` defaults to the stale-resourceVersion text.
    public static func conflict(
        resource: String, group: String = "", name: String,
        detail: String = "the object has been modified; please apply your changes to the latest version and try again"
    ) -> KubeStatus {
        KubeStatus(
            message: "Operation cannot be fulfilled on \(qualified(resource, group)) \(goQuoted(name)): \(detail)",
            reason: .conflict, details: Details(name: name, group: nonEmpty(group), kind: resource), code: 409)
    }

    /// A server-side apply conflict: 409 Conflict whose causes carry `FieldManagerConflict`.
    public static func applyConflict(message: String, causes: [Cause]) -> KubeStatus {
        KubeStatus(message: message, reason: .conflict, details: Details(causes: causes), code: 409)
    }

    /// `ConfigMap "X" is invalid: <field>: Invalid value: ...`; several errors are bracketed and
    /// comma-separated, duplicates dropped, as `utilerrors.Aggregate` prints them.
    public static func invalid(kind: String, group: String = "", name: String, causes: [FieldError]) -> KubeStatus {
        var seen = Set<String>()
        let texts = causes.map(\.description).filter { seen.insert($0).inserted }
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        var message = "\(qualifiedKind) \(goQuoted(name)) is invalid"
        if texts.count == 1 {
            message += ": " + texts[0]
        } else if texts.count > 1 {
            message += ": [" + texts.joined(separator: ", ") + "]"
        }
        let statusCauses = causes.map { Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }
        return KubeStatus(
            message: message, reason: .invalid,
            details: Details(name: name, group: nonEmpty(group), kind: kind, causes: statusCauses), code: 422)
    }

    /// 400 with the given text, e.g. `strict decoding error: unknown field "spec.foo"`.
    public static func badRequest(_ message: String) -> KubeStatus {
        KubeStatus(message: message, reason: .badRequest, code: 400)
    }

    /// 403: `namespaces "t" is forbidden: <detail>` (or `forbidden: <detail>` with no resource).
    public static func forbidden(resource: String, group: String = "", name: String, detail: String) -> KubeStatus {
        let message: String
        if resource.isEmpty {
            message = "forbidden: \(detail)"
        } else if name.isEmpty {
            message = "\(qualified(resource, group)) is forbidden: \(detail)"
        } else {
            message = "\(qualified(resource, group)) \(goQuoted(name)) is forbidden: \(detail)"
        }
        return KubeStatus(
            message: message, reason: .forbidden,
            details: Details(name: nonEmpty(name), group: nonEmpty(group), kind: nonEmpty(resource)), code: 403)
    }

    /// 405: `<verb> is not supported on resources of kind "<resource>"`.
    public static func methodNotAllowed(resource: String, group: String = "", verb: String) -> KubeStatus {
        KubeStatus(
            message: "\(verb) is not supported on resources of kind \(goQuoted(qualified(resource, group)))",
            reason: .methodNotAllowed, details: Details(group: nonEmpty(group), kind: resource), code: 405)
    }

    /// PATCH content types the apiserver accepts for built-in resources, in its order.
    public static let builtInPatchTypes = [
        "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ]

    /// PATCH content types accepted for custom resources: no strategic merge patch.
    public static let customResourcePatchTypes = [
        "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml",
    ]

    /// 415, e.g. for a strategic merge patch sent to a custom resource:
    /// `the body of the request was in an unknown format - accepted media types include: a, b`.
    public static func unsupportedMediaType(supported: [String]) -> KubeStatus {
        let list = supported.joined(separator: ", ")
        return KubeStatus(
            message: "the body of the request was in an unknown format - accepted media types include: \(list)",
            reason: .unsupportedMediaType, details: Details(), code: 415)
    }

    /// 410 Gone (the apiserver's older reason for a stale resource).
    public static func gone(_ message: String) -> KubeStatus {
        KubeStatus(message: message, reason: .gone, code: 410)
    }

    /// 410 Expired: a stale `continue` token or a too-old watch resourceVersion.
    public static func expired(_ message: String) -> KubeStatus {
        KubeStatus(message: message, reason: .expired, code: 410)
    }

    /// The watch ERROR event body: `too old resource version: <requested> (<oldest kept>)`.
    public static func tooOldResourceVersion(requested: String, oldest: String) -> KubeStatus {
        expired("too old resource version: \(requested) (\(oldest))")
    }

    /// The 422 the apiserver answers when a JSON patch fails to apply (its own message; the
    /// library's text is dropped).
    public static func genericUnprocessable() -> KubeStatus {
        KubeStatus(
            message: "the server rejected our request due to an error in our request", reason: .invalid,
            details: Details(), code: 422)
    }

    /// 500 `Internal error occurred: <detail>`.
    public static func internalError(_ detail: String) -> KubeStatus {
        KubeStatus(
            message: "Internal error occurred: \(detail)", reason: .internalError,
            details: Details(causes: [Cause(message: detail)]), code: 500)
    }

    /// The `{"status":"Success"}` body a DELETE may return instead of the object.
    public static func success(resource: String, group: String = "", name: String, uid: String? = nil) -> KubeStatus {
        KubeStatus(
            status: .success, details: Details(name: name, group: nonEmpty(group), kind: resource, uid: uid), code: 0)
    }

    // MARK: - JSON

    /// The wire form. Empty strings, empty cause lists and a zero code are left out, as Go's
    /// `omitempty` does; `metadata` is always `{}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": .string(status.rawValue),
        ]
        if !message.isEmpty { object["message"] = .string(message) }
        if !reason.rawValue.isEmpty { object["reason"] = .string(reason.rawValue) }
        if let details {
            var d: [String: JSONValue] = [:]
            if let name = details.name, !name.isEmpty { d["name"] = .string(name) }
            if let group = details.group, !group.isEmpty { d["group"] = .string(group) }
            if let kind = details.kind, !kind.isEmpty { d["kind"] = .string(kind) }
            if let uid = details.uid, !uid.isEmpty { d["uid"] = .string(uid) }
            if !details.causes.isEmpty {
                d["causes"] = .array(
                    details.causes.map { cause in
                        var c: [String: JSONValue] = [:]
                        if let r = cause.reason, !r.isEmpty { c["reason"] = .string(r) }
                        if let m = cause.message, !m.isEmpty { c["message"] = .string(m) }
                        if let f = cause.field, !f.isEmpty { c["field"] = .string(f) }
                        return .object(c)
                    })
            }
            if let retry = details.retryAfterSeconds, retry != 0 { d["retryAfterSeconds"] = .number(Double(retry)) }
            object["details"] = .object(d)
        }
        if code != 0 { object["code"] = .number(Double(code)) }
        return .object(object)
    }

    /// Reads a Status back from JSON, e.g. a body the client received.
    /// - Throws: `KubeModelsError` (`.statusMalformed`) when `kind` is not `Status` or `status` is unknown.
    public init(json: JSONValue) throws(KubeModelsError) {
        guard json["kind"]?.stringValue == "Status" else {
            throw KubeModelsError(
                code: .statusMalformed, message: "expected kind Status, got \(json["kind"]?.jsonText ?? "nothing")")
        }
        let outcomeText = json["status"]?.stringValue ?? ""
        guard let outcome = Outcome(rawValue: outcomeText) else {
            throw KubeModelsError(
                code: .statusMalformed, message: "unknown status \(KubeStatus.goQuoted(outcomeText)) in Status object")
        }
        status = outcome
        message = json["message"]?.stringValue ?? ""
        reason = Reason(rawValue: json["reason"]?.stringValue ?? "")
        code = json["code"]?.intValue ?? 0
        if let d = json["details"], case .object = d {
            let causes = (d["causes"]?.arrayValue ?? []).map { c in
                Cause(reason: c["reason"]?.stringValue, message: c["message"]?.stringValue, field: c["field"]?.stringValue)
            }
            details = Details(
                name: d["name"]?.stringValue, group: d["group"]?.stringValue, kind: d["kind"]?.stringValue,
                uid: d["uid"]?.stringValue, causes: causes, retryAfterSeconds: d["retryAfterSeconds"]?.intValue)
        } else {
            details = nil
        }
    }

    // MARK: - Helpers

    /// `resource.group`, as `schema.GroupResource.String()` prints it.
    static func qualified(_ resource: String, _ group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    private static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    /// Go's `%q` for ordinary text: double quotes, with backslash, quote and control characters escaped.
    static func goQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x7f: out += String(format: "\\x%02x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
