import KubeModels

/// A failed API request, carried as the Kubernetes `Status` object the real server would send.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSONValue?

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` body.
    public var status: JSONValue {
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .number(Double(code)),
        ]
        if let details { status["details"] = details }
        return status
    }

    static func details(_ type: ResourceType?, name: String?, causes: [JSONValue] = []) -> JSONValue {
        var details: JSONValue = [:]
        if let name { details["name"] = .string(name) }
        if let type {
            details["kind"] = .string(type.resource)
            if !type.group.isEmpty { details["group"] = .string(type.group) }
        }
        if !causes.isEmpty { details["causes"] = .array(causes) }
        return details
    }

    static func qualified(_ type: ResourceType) -> String {
        type.group.isEmpty ? type.resource : "\(type.resource).\(type.group)"
    }

    // MARK: - The server's error shapes

    public static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(qualified(type)) \"\(name)\" not found", details: details(type, name: name))
    }

    public static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
            details: ["name": .string(namespace), "kind": "namespaces"])
    }

    public static let unknownResource = APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource",
        details: ["causes": [["reason": "UnexpectedServerResponse", "message": "404 page not found"]]])

    public static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(qualified(type)) \"\(name)\" already exists", details: details(type, name: name))
    }

    public static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(qualified(type)) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: details(type, name: name))
    }

    /// 422 with one cause per field, formatted like the apiserver's field errors.
    public static func invalid(_ type: ResourceType, _ name: String, causes: [(field: String, reason: String, message: String)]) -> APIError {
        let text = causes.map { "\($0.field): \($0.message)" }
        let joined = text.count == 1 ? text[0] : "[\(text.joined(separator: ", "))]"
        // Unlike other errors, Invalid names the kind (not the resource) in details, which kubectl
        // prints as "The <Kind> "<name>" is invalid".
        var details = details(type, name: name, causes: causes.map {
            ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
        })
        details["kind"] = .string(type.kind)
        return APIError(code: 422, reason: "Invalid", message: "\(type.kind) \"\(name)\" is invalid: \(joined)", details: details)
    }


    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func forbidden(_ message: String, _ type: ResourceType? = nil, name: String? = nil) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message, details: type.map { details($0, name: name) })
    }

    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got \(contentType))")
    }

    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
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
