import Crypto
import Foundation

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// Pure: no clock, no network. The time is an argument, so tests pin it and reproduce AWS's published
/// vectors. The steps are named after AWS's documented stages: canonical request → string to sign →
/// signing key → signature (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
///
/// S3 differs from every other service in two ways, and both follow from `service == "s3"`:
/// - the canonical URI is the request path exactly as sent (already encoded once, never normalised),
///   while other services normalise the path (`.`/`..`/`//`) and then encode it again, which encodes a
///   second time anything the path already had percent-encoded;
/// - the `x-amz-content-sha256` header is required and signed.
public struct SigV4Signer: Sendable {
    /// The payload hash to send when the body is not hashed (S3 only).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty string, hex.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// Headers never signed because proxies and HTTP stacks add, drop or rewrite them in transit (the
    /// same list botocore keeps).
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    public var credentials: AWSCredentials
    public var region: String
    /// The signing name of the service: `s3`, `ssm`, `iam`, …
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Every intermediate value of one signing, so tests and debug logs can compare stage by stage.
    public struct Signature: Sendable, Hashable {
        public let canonicalRequest: String
        public let stringToSign: String
        /// Hex HMAC-SHA256 of the string to sign.
        public let signature: String
        /// `host;x-amz-date;…`
        public let signedHeaders: String
        /// `20150830/us-east-1/iam/aws4_request`
        public let credentialScope: String
        /// The full `Authorization` header value.
        public let authorization: String
        /// `20150830T123600Z`
        public let amzDate: String
        /// The hash that was signed (hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`).
        public let payloadHash: String
        /// The headers to add to the request, `Authorization` last: `X-Amz-Date`, `x-amz-content-sha256`
        /// (S3), `X-Amz-Security-Token` (temporary credentials), `Authorization`. The `Host` header is not
        /// among them: the transport sets it, and it must equal ``AWSHTTPRequest/hostHeader``.
        public let headers: [AWSHTTPRequest.Header]
    }

    var isS3: Bool { service == "s3" }
}

/// A signature carries the session token and the Authorization header: printing or dumping one
/// shows the scope and signed headers only.
extension SigV4Signer.Signature: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SigV4 signature (scope \(credentialScope), signed headers \(signedHeaders), redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["credentialScope": credentialScope, "signedHeaders": signedHeaders], displayStyle: .struct) }
}

extension SigV4Signer {

    // MARK: - Signing

    /// Signs `request` at `date`.
    /// - Parameters:
    ///   - request: The request to sign. Any `Authorization` or `X-Amz-Date` header in it is ignored and
    ///     replaced; so are `X-Amz-Security-Token` (when the credentials carry a token) and, for S3,
    ///     `x-amz-content-sha256`.
    ///   - payloadHash: Hex SHA-256 of the body, or ``unsignedPayload``. When `nil`: the request's own
    ///     `x-amz-content-sha256` header if it has one, else the hash of `request.body`.
    ///   - date: The signing time; only whole seconds count.
    /// - Returns: the headers to add and every intermediate value.
    public func sign(_ request: AWSHTTPRequest, payloadHash: String? = nil, date: Date) -> Signature {
        let amzDate = Self.amzDate(date)
        let dateStamp = String(amzDate.prefix(8))
        let hash = payloadHash ?? request.firstHeader(named: "x-amz-content-sha256") ?? Self.sha256Hex(request.body)

        var added = [AWSHTTPRequest.Header("X-Amz-Date", amzDate)]
        var replaced: Set<String> = ["authorization", "x-amz-date"]
        if isS3 {
            added.append(AWSHTTPRequest.Header("x-amz-content-sha256", hash))
            replaced.insert("x-amz-content-sha256")
        }
        if let token = credentials.sessionToken {
            added.append(AWSHTTPRequest.Header("X-Amz-Security-Token", token))
            replaced.insert("x-amz-security-token")
        }
        var signedSet = request.headers.filter { !replaced.contains($0.name.lowercased()) } + added
        if !signedSet.contains(where: { $0.name.lowercased() == "host" }) {
            signedSet.append(AWSHTTPRequest.Header("Host", request.hostHeader))
        }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(signedSet)
        let canonicalRequest = [
            request.method.uppercased(),
            canonicalURI(request.path),
            AWSURIEncoding.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            hash,
        ].joined(separator: "\n")

        let credentialScope = "\(dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm,
            amzDate,
            credentialScope,
            Self.sha256Hex(Data(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        let key = Self.signingKey(
            secretAccessKey: credentials.secretAccessKey,
            dateStamp: dateStamp,
            region: region,
            service: service
        )
        let signature = Self.hex(Self.hmac(key: key, message: stringToSign))
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(credentialScope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"

        return Signature(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders,
            credentialScope: credentialScope,
            authorization: authorization,
            amzDate: amzDate,
            payloadHash: hash,
            headers: added + [AWSHTTPRequest.Header("Authorization", authorization)]
        )
    }

    /// `request` with the signature headers set (replacing any earlier signature).
    public func signed(_ request: AWSHTTPRequest, payloadHash: String? = nil, date: Date) -> AWSHTTPRequest {
        let result = sign(request, payloadHash: payloadHash, date: date)
        var copy = request
        for header in result.headers {
            copy.setHeader(header.name, header.value)
        }
        return copy
    }

    // MARK: - Stages

    /// The canonical URI: for S3 the path as sent; for other services the normalised path, encoded
    /// again.
    func canonicalURI(_ path: String) -> String {
        let path = path.isEmpty ? "/" : path
        if isS3 {
            return path
        }
        return AWSURIEncoding.encode(AWSURIEncoding.normalizedPath(path), keepSlash: true)
    }

    /// The canonical header block (each `name:value` line, then a newline) and the signed-header list.
    /// Names are lowercased and sorted; values are trimmed with inner whitespace runs collapsed; repeated
    /// names are joined with commas in their original order.
    static func canonicalHeaders(_ headers: [AWSHTTPRequest.Header]) -> (block: String, signed: String) {
        var grouped: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased().trimmingWhitespace()
            guard !unsignedHeaderNames.contains(name) else { continue }
            grouped[name, default: []].append(trimAll(header.value))
        }
        let sorted = grouped.sorted { AWSURIEncoding.precedesInByteOrder($0.key, $1.key) }
        let block = sorted.map { "\($0.key):\($0.value.joined(separator: ","))\n" }.joined()
        let signed = sorted.map(\.key).joined(separator: ";")
        return (block, signed)
    }

    /// Trims leading and trailing whitespace and turns every inner run of whitespace into one space.
    static func trimAll(_ value: String) -> String {
        value.unicodeScalars
            .split(whereSeparator: { $0.properties.isWhitespace })
            .map { String(Substring($0)) }
            .joined(separator: " ")
    }

    /// The derived key: HMAC chain over date, region, service and `aws4_request`, seeded with
    /// `"AWS4" + secret`.
    public static func signingKey(secretAccessKey: String, dateStamp: String, region: String, service: String) -> [UInt8] {
        let dateKey = hmac(key: Array("AWS4\(secretAccessKey)".utf8), message: dateStamp)
        let regionKey = hmac(key: dateKey, message: region)
        let serviceKey = hmac(key: regionKey, message: service)
        return hmac(key: serviceKey, message: "aws4_request")
    }

    // MARK: - Primitives

    /// Hex SHA-256 of `data`, for payload hashes.
    public static func sha256Hex(_ data: some DataProtocol) -> String {
        hex(Array(SHA256.hash(data: data)))
    }

    static func hmac(key: [UInt8], message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: key)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = String.UnicodeScalarView()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(out)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    ///
    /// Why by hand: a days-to-civil conversion needs no `Calendar`/`TimeZone` lookups, so the result
    /// cannot depend on the machine's locale or time-zone database.
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T"
            + pad(secondOfDay / 3_600, 2) + pad(secondOfDay % 3_600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
