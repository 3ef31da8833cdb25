import KubeModels

/// A failed API request: the Kubernetes `Status` the real server would send (`KubeStatus`, the
/// same type the client decodes), thrown as a typed error through the simulator's handlers.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: KubeStatus

    public init(_ status: KubeStatus) {
        self.status = status
    }

    public init(code: Int, reason: String, message: String, details: KubeStatus.Details? = nil) {
        self.status = KubeStatus(message: message, reason: KubeStatus.Reason(rawValue: reason), details: details, code: code)
    }

    public var code: Int { status.code }
    public var reason: String { status.reason.rawValue }
    public var message: String { status.message }
    public var description: String { "\(code) \(reason): \(message)" }

    static func details(_ type: ResourceType?, name: String?, causes: [KubeStatus.Cause] = []) -> KubeStatus.Details {
        KubeStatus.Details(name: name, group: type.map(\.group), kind: type.map(\.resource), causes: causes)
    }

    // MARK: - The server's error shapes

    public static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(.notFound(resource: type.resource, group: type.group, name: name))
    }

    public static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
            details: KubeStatus.Details(name: namespace, kind: "namespaces"))
    }

    public static let unknownResource = APIError(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource",
        details: KubeStatus.Details(causes: [KubeStatus.Cause(reason: "UnexpectedServerResponse", message: "404 page not found")]))

    public static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(.alreadyExists(resource: type.resource, group: type.group, name: name))
    }

    public static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(.conflict(resource: type.resource, group: type.group, name: name))
    }

    /// 422 with one cause per field, formatted like the apiserver's field errors.
    public static func invalid(_ type: ResourceType, _ name: String, causes: [(field: String, reason: String, message: String)]) -> APIError {
        let text = causes.map { "\($0.field): \($0.message)" }
        let joined = text.count == 1 ? text[0] : "[\(text.joined(separator: ", "))]"
        // Unlike other errors, Invalid names the kind (not the resource) in details, which kubectl
        // prints as "The <Kind> "<name>" is invalid".
        var details = details(
            type, name: name,
            causes: causes.map {
                KubeStatus.Cause(reason: $0.reason, message: $0.message, field: $0.field)
            })
        details.kind = type.kind
        return APIError(code: 422, reason: "Invalid", message: "\(type.kind) \"\(name)\" is invalid: \(joined)", details: details)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest(message))
    }

    public static func forbidden(_ message: String, _ type: ResourceType? = nil, name: String? = nil) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message, details: type.map { details($0, name: name) })
    }

    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got \(contentType))"
        )
    }

    public static func expired(_ message: String) -> APIError {
        APIError(.expired(message))
    }

    public static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func serviceUnavailable(_ message: String) -> APIError {
        APIError(code: 503, reason: "ServiceUnavailable", message: message)
    }

    public static func tooManyRequests(_ message: String) -> APIError {
        APIError(code: 429, reason: "TooManyRequests", message: message)
    }
}
