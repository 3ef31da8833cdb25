import Foundation
import KubeModels

/// An HTTP request as the API handler sees it, independent of the HTTP server library.
public struct APIRequest: Sendable {
    /// Where the HTTP layer keeps an `Upgrade` header it did not act on (anything but WebSocket).
    public static let refusedUpgradeHeader = "x-simulator-refused-upgrade"

    public var method: String
    public var path: String
    public var query: [String: [String]]
    public var headers: [String: String]
    public var body: Data
    /// Who sent it, as authentication found; in-process callers act as the cluster admin.
    public var user: RequestUser = .admin
    /// Which connection carried the request (the server's own id for it): scripts count the
    /// connections a client opened from the request log.
    public var connection: String?
    /// "1.1" or "2".
    public var httpVersion: String?

    public init(method: String, path: String, query: [String: [String]] = [:], headers: [String: String] = [:], body: Data = Data()) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        // Header names are case-insensitive; keep them lowercased.
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0),\($1)" })
        self.body = body
    }

    public func parameter(_ name: String) -> String? { query[name]?.last }
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Splits `a=1&b=2&b=3` into a multimap, percent-decoding keys and values.
    public static func parseQuery(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode: (Substring) -> String = { ($0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? String($0) }
            let key = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            result[key, default: []].append(value)
        }
        return result
    }
}

/// The handler's answer: a whole body, or a stream of chunks (watches, followed logs).
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case data(Data)
        case stream(AsyncStream<Data>)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSONValue, status: Int = 200, contentType: String = "application/json", warnings: [String] = []) -> APIResponse {
        var headers = [("Content-Type", contentType)]
        for warning in warnings { headers.append(("Warning", "299 - \"\(warning.replacingOccurrences(of: "\"", with: "\\\""))\"")) }
        return APIResponse(status: status, headers: headers, body: .data(value.encoded()))
    }

    public static func error(_ error: APIError) -> APIResponse {
        .json(error.status.json, status: error.code)
    }

    public static func text(_ text: String, status: Int = 200) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: .data(Data(text.utf8)))
    }

    /// The whole body, for tests and in-process callers (streams are drained).
    public func collect() async -> Data {
        switch body {
        case .data(let data): return data
        case .stream(let stream):
            var data = Data()
            for await chunk in stream { data.append(chunk) }
            return data
        }
    }
}
