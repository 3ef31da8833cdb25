import Foundation

/// An HTTP request to an AWS endpoint, held as plain values so it can be built, signed and inspected
/// without any network code.
///
/// Why not `URLRequest`: a SigV4 signature covers the exact path and query the server will see. Keeping
/// the path already percent-encoded (the way it goes on the wire) and the query as decoded items (encoded
/// once, by ``AWSURIEncoding``) means the bytes we sign and the bytes we send come from one place.
public struct AWSHTTPRequest: Sendable, Hashable {
    /// One header line. Order is kept and names may repeat (SigV4 joins repeated values with commas).
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One query parameter, *not* percent-encoded. A `nil` value is a bare name such as `?lifecycle`.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String?

        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// `https` or `http`.
    public var scheme: String
    public var host: String
    /// The port, or `nil` for the scheme's default.
    public var port: Int?
    /// The path exactly as sent: starts with `/` and is already percent-encoded.
    public var path: String
    public var query: [QueryItem]
    public var headers: [Header]
    public var body: Data

    public init(
        method: String,
        scheme: String = "https",
        host: String,
        port: Int? = nil,
        path: String = "/",
        query: [QueryItem] = [],
        headers: [Header] = [],
        body: Data = Data()
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Builds a request from a URL.
    ///
    /// The URL's path is taken as already percent-encoded; its query is split on `&` and `=` and
    /// percent-decoded (a `+` stays a literal plus, as RFC 3986 says).
    /// - Throws: `AWSError` with code `.invalidRequest` when the URL has no host.
    public init(method: String, url: URL, headers: [Header] = [], body: Data = Data()) throws(AWSError) {
        guard let host = url.host(percentEncoded: false), !host.isEmpty else {
            throw AWSError(
                code: .invalidRequest,
                subject: url.absoluteString,
                detail: "the URL has no host",
                hint: "use an absolute URL such as https://s3.us-east-1.amazonaws.com/bucket/key"
            )
        }
        var items: [QueryItem] = []
        if let rawQuery = url.query(percentEncoded: true), !rawQuery.isEmpty {
            for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                let value = parts.count > 1 ? String(parts[1]) : nil
                items.append(QueryItem(name.removingPercentEncoding ?? name, value.map { $0.removingPercentEncoding ?? $0 }))
            }
        }
        self.init(
            method: method,
            scheme: url.scheme?.lowercased() ?? "https",
            host: host,
            port: url.port,
            path: url.path(percentEncoded: true),
            query: items,
            headers: headers,
            body: body
        )
    }

    // MARK: - Derived values

    /// The `Host` header value: lowercased host, plus `:port` unless it is the scheme's default.
    public var hostHeader: String {
        var name = host.lowercased()
        if name.contains(":") && !name.hasPrefix("[") {
            name = "[\(name)]"  // an IPv6 literal
        }
        guard let port, port != Self.defaultPort(for: scheme) else { return name }
        return "\(name):\(port)"
    }

    /// The query string as sent: AWS-encoded names and values in canonical (sorted) order, so the wire
    /// query and the signed query are the same string.
    public var encodedQuery: String {
        AWSURIEncoding.canonicalQuery(query)
    }

    /// The full URL, or `nil` if Foundation cannot represent it (for example a host with spaces).
    public var url: URL? {
        var text = "\(scheme)://\(hostHeader)\(path)"
        let query = encodedQuery
        if !query.isEmpty {
            text += "?\(query)"
        }
        return URL(string: text)
    }

    /// All values of the header `name`, compared case-insensitively, in order.
    public func headerValues(named name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func firstHeader(named name: String) -> String? {
        headerValues(named: name).first
    }

    /// Replaces every header called `name` (case-insensitively) with one line.
    public mutating func setHeader(_ name: String, _ value: String) {
        removeHeaders(named: name)
        headers.append(Header(name, value))
    }

    /// Removes every header called `name`, compared case-insensitively.
    public mutating func removeHeaders(named name: String) {
        let lowered = name.lowercased()
        headers.removeAll { $0.name.lowercased() == lowered }
    }

    static func defaultPort(for scheme: String) -> Int? {
        switch scheme.lowercased() {
        case "https": 443
        case "http": 80
        default: nil
        }
    }
}
