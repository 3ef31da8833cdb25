import Foundation

/// Where S3 requests go: the endpoint, and whether the bucket is in the host name (virtual-hosted
/// style, `bucket.s3.us-east-1.amazonaws.com/key`) or in the path (path style, `host/bucket/key`).
///
/// The rules follow what Longhorn's backup driver does with the same Secret, so the tool reads the
/// store the way Longhorn wrote it:
/// - no custom endpoint: AWS, `s3.<region>.amazonaws.com` (`.com.cn` in China), virtual-hosted style;
/// - a custom endpoint (`AWS_ENDPOINTS`, e.g. MinIO): path style;
/// - `VIRTUAL_HOSTED_STYLE` `"true"` asks for virtual-hosted style, `"false"` for path style; any other
///   value is ignored, as Longhorn ignores it.
///
/// Virtual-hosted style is used only for bucket names that can be a host name label (and, over HTTPS,
/// contain no dots, which the endpoint's wildcard certificate would not cover); other names fall back
/// to path style, as the AWS SDKs do.
public struct S3Addressing: Sendable, Hashable {
    public enum Style: String, Sendable, Hashable {
        case virtualHosted = "virtual-hosted"
        case path
    }

    public let region: String
    public let scheme: String
    /// The service host without any bucket: `s3.eu-west-1.amazonaws.com` or `minio.example:9000`'s host.
    public let endpointHost: String
    public let port: Int?
    /// A path the custom endpoint sits under (`https://gw.example/s3` → `/s3`), or empty.
    public let basePath: String
    public let isCustomEndpoint: Bool
    /// The style asked for by `VIRTUAL_HOSTED_STYLE`, if any.
    public let requestedStyle: Style?

    /// - Parameters:
    ///   - region: The signing region (from the backup target URL or the environment).
    ///   - customEndpoint: `AWS_ENDPOINTS`, e.g. `https://minio.example:9000`; a missing scheme means https.
    ///   - virtualHostedStyle: `VIRTUAL_HOSTED_STYLE` as written in the Secret.
    /// - Throws: `AWSError` `.invalidEndpoint` when the endpoint cannot be used, `.noRegion` for an empty
    ///   region.
    public init(region: String, customEndpoint: String? = nil, virtualHostedStyle: String? = nil) throws(AWSError) {
        let region = region.trimmingWhitespace()
        guard !region.isEmpty else {
            throw AWSError(
                code: .noRegion,
                detail: "the S3 region is empty",
                hint: "name the region in the backup target URL (s3://bucket@region/path/) or export AWS_REGION"
            )
        }
        self.region = region
        switch virtualHostedStyle?.trimmingWhitespace() {
        case "true": requestedStyle = .virtualHosted
        case "false": requestedStyle = .path
        default: requestedStyle = nil
        }
        guard let endpoint = customEndpoint?.trimmingWhitespace(), !endpoint.isEmpty else {
            scheme = "https"
            endpointHost = Self.awsEndpointHost(region: region)
            port = nil
            basePath = ""
            isCustomEndpoint = false
            return
        }
        let parsed = try Self.parseEndpoint(endpoint)
        scheme = parsed.scheme
        endpointHost = parsed.host
        port = parsed.port
        basePath = parsed.basePath
        isCustomEndpoint = true
    }

    /// AWS's regional S3 host.
    public static func awsEndpointHost(region: String) -> String {
        region.hasPrefix("cn-") ? "s3.\(region).amazonaws.com.cn" : "s3.\(region).amazonaws.com"
    }

    /// The style used for `bucket`.
    public func style(for bucket: String) -> Style {
        let wanted = requestedStyle ?? (isCustomEndpoint ? .path : .virtualHosted)
        guard wanted == .virtualHosted, canBeHostLabel(bucket) else { return .path }
        return .virtualHosted
    }

    // MARK: - Requests

    /// A request on the bucket itself (listing, bucket subresources).
    public func bucketRequest(method: String, bucket: String, query: [AWSHTTPRequest.QueryItem] = []) -> AWSHTTPRequest {
        switch style(for: bucket) {
        case .virtualHosted:
            return request(method, host: "\(bucket).\(endpointHost)", path: basePath + "/", query: query)
        case .path:
            return request(method, host: endpointHost, path: basePath + "/" + AWSURIEncoding.encode(bucket), query: query)
        }
    }

    /// A request on one object. The key is encoded per S3 rules with `/` kept.
    public func objectRequest(
        method: String,
        bucket: String,
        key: String,
        query: [AWSHTTPRequest.QueryItem] = []
    ) -> AWSHTTPRequest {
        let encodedKey = AWSURIEncoding.encode(key, keepSlash: true)
        switch style(for: bucket) {
        case .virtualHosted:
            return request(method, host: "\(bucket).\(endpointHost)", path: basePath + "/" + encodedKey, query: query)
        case .path:
            return request(
                method,
                host: endpointHost,
                path: basePath + "/" + AWSURIEncoding.encode(bucket) + "/" + encodedKey,
                query: query
            )
        }
    }

    /// ListObjectsV2 (`GET ?list-type=2`).
    /// - Parameters:
    ///   - prefix: Only keys starting with this.
    ///   - continuationToken: `NextContinuationToken` of the previous page.
    ///   - maxKeys: Page size (S3's default and maximum is 1000).
    ///   - delimiter: Group keys up to this character into `CommonPrefixes` (usually `/`).
    ///   - urlEncodedKeys: Ask S3 to URL-encode keys in the answer (`encoding-type=url`), so keys with
    ///     characters XML cannot carry still arrive; ``S3Response`` decodes them.
    public func listObjectsV2(
        bucket: String,
        prefix: String? = nil,
        continuationToken: String? = nil,
        maxKeys: Int? = nil,
        delimiter: String? = nil,
        urlEncodedKeys: Bool = true
    ) -> AWSHTTPRequest {
        var query = [AWSHTTPRequest.QueryItem("list-type", "2")]
        if let prefix, !prefix.isEmpty { query.append(.init("prefix", prefix)) }
        if let continuationToken { query.append(.init("continuation-token", continuationToken)) }
        if let maxKeys { query.append(.init("max-keys", String(maxKeys))) }
        if let delimiter { query.append(.init("delimiter", delimiter)) }
        if urlEncodedKeys { query.append(.init("encoding-type", "url")) }
        return bucketRequest(method: "GET", bucket: bucket, query: query)
    }

    /// GetObject, optionally for an inclusive byte range (`Range: bytes=first-last`).
    public func getObject(bucket: String, key: String, range: ClosedRange<UInt64>? = nil) -> AWSHTTPRequest {
        var request = objectRequest(method: "GET", bucket: bucket, key: key)
        if let range {
            request.setHeader("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")
        }
        return request
    }

    /// HeadObject: metadata only.
    public func headObject(bucket: String, key: String) -> AWSHTTPRequest {
        objectRequest(method: "HEAD", bucket: bucket, key: key)
    }

    /// PutObject with `body`.
    public func putObject(bucket: String, key: String, body: Data, contentType: String? = nil) -> AWSHTTPRequest {
        var request = objectRequest(method: "PUT", bucket: bucket, key: key)
        request.body = body
        if let contentType {
            request.setHeader("Content-Type", contentType)
        }
        return request
    }

    // MARK: - Helpers

    private func request(
        _ method: String,
        host: String,
        path: String,
        query: [AWSHTTPRequest.QueryItem]
    ) -> AWSHTTPRequest {
        AWSHTTPRequest(method: method, scheme: scheme, host: host, port: port, path: path, query: query)
    }

    /// DNS-compatible bucket names (3–63 of `a-z 0-9 . -`, letter or digit at both ends, no `..`, not
    /// an IP address); over HTTPS without dots.
    private func canBeHostLabel(_ bucket: String) -> Bool {
        guard (3...63).contains(bucket.count) else { return false }
        let allowed = bucket.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
        guard allowed, let first = bucket.first, let last = bucket.last,
            first.isLetter || first.isNumber, last.isLetter || last.isNumber,
            !bucket.contains("..")
        else { return false }
        if bucket.split(separator: ".").count == 4 && bucket.allSatisfy({ $0.isNumber || $0 == "." }) {
            return false  // looks like an IPv4 address
        }
        if scheme == "https" && bucket.contains(".") {
            return false
        }
        return true
    }

    private static func parseEndpoint(
        _ endpoint: String
    ) throws(AWSError) -> (scheme: String, host: String, port: Int?, basePath: String) {
        func invalid(_ why: String) -> AWSError {
            AWSError(
                code: .invalidEndpoint,
                subject: "AWS_ENDPOINTS \"\(endpoint)\"",
                detail: why,
                hint: "write it as https://host[:port] (or http://host:port for a plain-HTTP store)"
            )
        }
        var scheme = "https"
        var rest = Substring(endpoint)
        if let separator = endpoint.range(of: "://") {
            scheme = endpoint[..<separator.lowerBound].lowercased()
            rest = endpoint[separator.upperBound...]
        }
        guard scheme == "https" || scheme == "http" else {
            throw invalid("the scheme \"\(scheme)\" is neither https nor http")
        }
        if rest.contains("?") || rest.contains("#") || rest.contains("@") {
            throw invalid("it has a query, fragment or user name, which an endpoint cannot have")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var basePath = String(rest[slash...])
        while basePath.hasSuffix("/") { basePath.removeLast() }

        var host = String(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("the IPv6 address has no closing ]") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected text after the IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw invalid("the host is empty") }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw invalid("\"\(portText)\" is not a port number")
            }
            port = number
        }
        return (scheme, host, port, basePath)
    }
}
