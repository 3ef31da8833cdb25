import Foundation
import KubeModels

/// A failed Kubernetes API call: what failed (verb and object), the server's own words, and
/// what to do next. Never carries tokens or keys.
public struct KubeClientError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let notFound = Code(name: "NotFound")
        public static let alreadyExists = Code(name: "AlreadyExists")
        public static let conflict = Code(name: "Conflict")
        public static let invalid = Code(name: "Invalid")
        public static let badRequest = Code(name: "BadRequest")
        public static let forbidden = Code(name: "Forbidden")
        public static let unauthorized = Code(name: "Unauthorized")
        public static let gone = Code(name: "Gone")
        public static let tooManyRequests = Code(name: "TooManyRequests")
        public static let unsupportedMediaType = Code(name: "UnsupportedMediaType")
        public static let methodNotAllowed = Code(name: "MethodNotAllowed")
        public static let serverError = Code(name: "ServerError")
        /// The connection failed or broke (after retries, for idempotent verbs).
        public static let transport = Code(name: "Transport")
        /// A wait ran out of time.
        public static let timeout = Code(name: "Timeout")
        /// The server's answer was not what the API promises.
        public static let decoding = Code(name: "Decoding")
        /// The client could not be set up (kubeconfig, TLS, credentials).
        public static let configuration = Code(name: "Configuration")
    }

    public var code: Code
    /// e.g. `get configmaps t/c1`.
    public var subject: String
    public var detail: String
    public var hint: String?
    public var httpStatus: Int?
    /// The server's Status object, when it sent one.
    public var status: KubeStatus?
    /// The error this one stands for, when it wraps one (a TLS or connection failure, a
    /// credential plugin's error), kept for callers that need more than the text.
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code, subject: String, detail: String, hint: String? = nil, httpStatus: Int? = nil, status: KubeStatus? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.httpStatus = httpStatus
        self.status = status
        self.cause = cause
    }

    public var description: String {
        var text = "\(subject): \(detail)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// Maps an HTTP error answer (ideally a Status body) onto a typed error.
    static func from(status: Int, body: Data, subject: String) -> KubeClientError {
        let parsed = (try? JSONValue(parsing: body)).flatMap { value -> KubeStatus? in
            guard value["kind"]?.stringValue == "Status" else { return nil }
            return try? KubeStatus(json: value)
        }
        let message = parsed?.message ?? String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let code: Code
        var hint: String?
        switch status {
        case 400: code = .badRequest
        case 401:
            code = .unauthorized
            hint = "the credentials in the kubeconfig were refused; fetch a fresh kubeconfig (e.g. `longhorn-dr kubeconfig fetch`)"
        case 403:
            code = .forbidden
            hint = "the user lacks RBAC permission for this; see deploy/rbac for the roles longhorn-dr needs"
        case 404: code = .notFound
        case 405: code = .methodNotAllowed
        case 409: code = parsed?.reason.rawValue == "AlreadyExists" ? .alreadyExists : .conflict
        case 410: code = .gone
        case 415: code = .unsupportedMediaType
        case 422: code = .invalid
        case 429: code = .tooManyRequests
        default: code = .serverError
        }
        return KubeClientError(code, subject: subject, detail: message.isEmpty ? "HTTP \(status)" : message, hint: hint, httpStatus: status, status: parsed)
    }
}
