import Foundation

/// The one error type of the `AWS` module: a failed AWS call, or input (URL, credentials, endpoint)
/// that cannot work.
///
/// `description` is what an operator reads: the object, the condensed `Code: Message`, and on a second
/// line a hint with the next step. AWS request ids are kept in ``requestID`` for debug logs and support
/// tickets but left out of `description`, where they are noise.
public struct AWSError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A matchable error code. AWS codes are an open set, so a code is its string; the codes this
    /// project reacts to, or produces itself, have static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        // MARK: S3
        public static let noSuchKey = Code("NoSuchKey")
        public static let noSuchBucket = Code("NoSuchBucket")
        public static let accessDenied = Code("AccessDenied")
        public static let invalidAccessKeyId = Code("InvalidAccessKeyId")
        public static let signatureDoesNotMatch = Code("SignatureDoesNotMatch")
        public static let requestTimeTooSkewed = Code("RequestTimeTooSkewed")
        public static let expiredToken = Code("ExpiredToken")
        public static let invalidToken = Code("InvalidToken")
        public static let permanentRedirect = Code("PermanentRedirect")
        public static let authorizationHeaderMalformed = Code("AuthorizationHeaderMalformed")
        public static let invalidBucketName = Code("InvalidBucketName")
        public static let invalidRange = Code("InvalidRange")
        public static let slowDown = Code("SlowDown")
        public static let internalError = Code("InternalError")
        /// A HEAD (or body-less) 404: S3 sends no XML for HEAD, so there is no finer code.
        public static let notFound = Code("NotFound")
        /// A HEAD (or body-less) 403.
        public static let forbidden = Code("Forbidden")

        // MARK: SSM (JSON 1.1 `__type` values, namespace stripped)
        public static let parameterNotFound = Code("ParameterNotFound")
        public static let parameterVersionNotFound = Code("ParameterVersionNotFound")
        public static let accessDeniedException = Code("AccessDeniedException")
        public static let unrecognizedClientException = Code("UnrecognizedClientException")
        public static let invalidSignatureException = Code("InvalidSignatureException")
        public static let expiredTokenException = Code("ExpiredTokenException")
        public static let throttlingException = Code("ThrottlingException")
        public static let internalServerError = Code("InternalServerError")
        public static let invalidKeyId = Code("InvalidKeyId")

        // MARK: Raised by this module
        public static let invalidBackupTargetURL = Code("InvalidBackupTargetURL")
        public static let invalidEndpoint = Code("InvalidEndpoint")
        public static let invalidRequest = Code("InvalidRequest")
        public static let noCredentials = Code("NoCredentials")
        public static let incompleteCredentials = Code("IncompleteCredentials")
        public static let noRegion = Code("NoRegion")
        public static let invalidSecret = Code("InvalidSecret")
        public static let malformedResponse = Code("MalformedResponse")
        /// The endpoint could not be reached: refused, reset, DNS, TLS or a timeout.
        public static let endpointUnreachable = Code("EndpointUnreachable")
        /// The `aws` CLI, used as a credential source, failed or is missing.
        public static let credentialProcessFailed = Code("CredentialProcessFailed")
        /// S3's own "the connection was idle too long" code.
        public static let requestTimeout = Code("RequestTimeout")

        /// The code for a response that carried no AWS error body: `NotFound`, `Forbidden`,
        /// `PermanentRedirect`, or `HTTP<status>`.
        public static func httpStatus(_ status: Int) -> Code {
            switch status {
            case 301: .permanentRedirect
            case 403: .forbidden
            case 404: .notFound
            default: Code("HTTP\(status)")
            }
        }
    }

    public let code: Code
    /// The object concerned: `s3://bucket/key`, `SSM parameter /name`, a URL, a credential source.
    public let subject: String?
    /// What happened; for service errors the condensed `Code: Message`.
    public let detail: String
    /// The operator's next step, when there is one.
    public let hint: String?
    /// The AWS request id, for debug logs only.
    public let requestID: String?
    /// The HTTP status of the response, when the error came from one.
    public let httpStatus: Int?
    public let underlying: (any Error)?

    public init(
        code: Code,
        subject: String? = nil,
        detail: String,
        hint: String? = nil,
        requestID: String? = nil,
        httpStatus: Int? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.requestID = requestID
        self.httpStatus = httpStatus
        self.underlying = underlying
    }

    public var description: String {
        var text = subject.map { "\($0): \(detail)" } ?? detail
        if let hint {
            text += "\n  hint: \(hint)"
        }
        return text
    }

    /// `description` plus the request id and HTTP status, for logs.
    public var debugDescription: String {
        var text = description
        var extras: [String] = []
        if let httpStatus { extras.append("HTTP \(httpStatus)") }
        if let requestID { extras.append("request id \(requestID)") }
        if let underlying { extras.append("underlying: \(underlying)") }
        if !extras.isEmpty {
            text += "\n  (" + extras.joined(separator: ", ") + ")"
        }
        return text
    }
}

// MARK: - Decoding service error bodies

extension AWSError {
    /// Turns an S3 error response into an `AWSError`.
    ///
    /// Reads `<Error><Code/><Message/><RequestId/></Error>`; a body that is empty (HEAD) or not S3 XML
    /// (a proxy's HTML page) falls back to a code from the status and a condensed snippet of the text.
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - body: The response body.
    ///   - bucket: The bucket addressed, named in the subject.
    ///   - key: The object key addressed, if any.
    ///   - requestID: The `x-amz-request-id` header, used when the body has none.
    public static func s3Response(
        status: Int,
        body: Data,
        bucket: String?,
        key: String? = nil,
        requestID: String? = nil
    ) -> AWSError {
        let subject = bucket.map { bucket in key.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)" }
        if let root = SimpleXMLElement.parse(body), root.name == "Error", let codeText = root.childText("Code") {
            let code = Code(condense(codeText))
            var message = condense(root.childText("Message") ?? "")
            // A redirect names the endpoint to use; that is the useful part of the answer.
            if let endpoint = root.childText("Endpoint").map({ condense($0) }), !endpoint.isEmpty {
                message += message.isEmpty ? "use endpoint \(endpoint)" : " (endpoint \(endpoint))"
            }
            if let region = root.childText("Region").map({ condense($0) }), !region.isEmpty, code == .authorizationHeaderMalformed || code == .permanentRedirect
            {
                message += " (bucket region \(region))"
            }
            return AWSError(
                code: code,
                subject: subject,
                detail: message.isEmpty ? code.rawValue : "\(code.rawValue): \(message)",
                hint: hint(for: code, service: .s3),
                requestID: root.childText("RequestId").map { condense($0) } ?? requestID,
                httpStatus: status
            )
        }
        return fromStatusOnly(status: status, body: body, subject: subject, service: .s3, requestID: requestID)
    }

    /// Turns an AWS JSON 1.1 error response (SSM and similar) into an `AWSError`.
    ///
    /// Reads `{"__type": "com.amazonaws.ssm#ParameterNotFound", "message": "…"}`; the namespace before
    /// `#` is dropped. The `x-amzn-ErrorType` header is used when the body has no type.
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - body: The response body.
    ///   - subject: The object addressed, e.g. `SSM parameter /clusters/prod/kubeconfig`.
    ///   - errorTypeHeader: The `x-amzn-ErrorType` header, if present.
    ///   - requestID: The `x-amzn-RequestId` header, if present.
    public static func jsonResponse(
        status: Int,
        body: Data,
        subject: String?,
        errorTypeHeader: String? = nil,
        requestID: String? = nil
    ) -> AWSError {
        let decoded = try? JSONDecoder().decode(JSONErrorBody.self, from: body)
        let rawType = decoded?.type ?? errorTypeHeader.map { String($0.prefix { $0 != ":" }) }
        guard let rawType, !rawType.isEmpty else {
            return fromStatusOnly(status: status, body: body, subject: subject, service: .json, requestID: requestID)
        }
        let code = Code(condense(String(rawType.split(separator: "#").last ?? Substring(rawType))))
        let message = condense(decoded?.message ?? "")
        return AWSError(
            code: code,
            subject: subject,
            detail: message.isEmpty ? code.rawValue : "\(code.rawValue): \(message)",
            hint: hint(for: code, service: .json),
            requestID: requestID,
            httpStatus: status
        )
    }

    // MARK: - Helpers

    enum ServiceKind {
        case s3
        case json
    }

    private struct JSONErrorBody: Decodable {
        var type: String?
        var message: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type"
            case message
            case capitalMessage = "Message"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(String.self, forKey: .type)
            message =
                try container.decodeIfPresent(String.self, forKey: .message)
                ?? container.decodeIfPresent(String.self, forKey: .capitalMessage)
        }
    }

    private static func fromStatusOnly(
        status: Int,
        body: Data,
        subject: String?,
        service: ServiceKind,
        requestID: String?
    ) -> AWSError {
        let code = Code.httpStatus(status)
        var detail = "HTTP \(status)"
        if let reason = reasonPhrase(status) {
            detail += " \(reason)"
        }
        let snippet = condense(stripTags(String(decoding: body.prefix(2048), as: UTF8.self)))
        if !snippet.isEmpty {
            detail += ": \(snippet)"
        }
        return AWSError(
            code: code,
            subject: subject,
            detail: detail,
            hint: hint(for: code, service: service),
            requestID: requestID,
            httpStatus: status
        )
    }

    /// Reason phrases for the statuses S3 and SSM answer with (FoundationNetworking is not a
    /// dependency of this module, so no `HTTPURLResponse` here).
    private static func reasonPhrase(_ status: Int) -> String? {
        switch status {
        case 301: "Moved Permanently"
        case 307: "Temporary Redirect"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 416: "Range Not Satisfiable"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: nil
        }
    }

    /// Collapses whitespace runs (XML bodies are often indented) and caps the length, as velero does
    /// before showing cloud errors to users.
    static func condense(_ text: String, limit: Int = 300) -> String {
        let words = text.split(whereSeparator: { $0.isWhitespace })
        let joined = words.joined(separator: " ")
        guard joined.count > limit else { return joined }
        return String(joined.prefix(limit)) + "…"
    }

    private static func stripTags(_ text: String) -> String {
        var out = ""
        var inTag = false
        for character in text {
            switch character {
            case "<":
                inTag = true
                out.append(" ")
            case ">": inTag = false
            default: if !inTag { out.append(character) }
            }
        }
        return out
    }

    /// The next step for codes an operator can act on.
    static func hint(for code: Code, service: ServiceKind) -> String? {
        switch code {
        case .notFound where service == .s3:
            "the object is not there: check the path in the backup target URL and that the backup has completed"
        case .noSuchKey:
            "the object is not there: check the path in the backup target URL and that the backup has completed"
        case .noSuchBucket:
            "check the bucket name in the backup target URL (s3://bucket@region/path/) and, for S3-compatible stores, AWS_ENDPOINTS"
        case .forbidden where service == .s3:
            "the credentials lack permission: the backup reader needs s3:ListBucket on the bucket and s3:GetObject on its objects"
        case .accessDenied:
            "the credentials lack permission: the backup reader needs s3:ListBucket on the bucket and s3:GetObject on its objects"
        case .accessDeniedException, .forbidden:
            "the credentials lack permission: allow ssm:GetParameter on the parameter (and kms:Decrypt for a SecureString)"
        case .invalidAccessKeyId, .unrecognizedClientException:
            "the access key id is not known there: check AWS_ACCESS_KEY_ID, and AWS_ENDPOINTS if the store is not AWS"
        case .signatureDoesNotMatch, .invalidSignatureException:
            "check the secret access key (AWS_SECRET_ACCESS_KEY) and that this machine's clock is in sync (clock skew)"
        case .requestTimeTooSkewed:
            "this machine's clock is off by more than 15 minutes: sync it (NTP) and retry"
        case .expiredToken, .expiredTokenException, .invalidToken:
            "the session token has expired or is invalid: refresh the temporary credentials (AWS_SESSION_TOKEN)"
        case .permanentRedirect, .authorizationHeaderMalformed:
            "the bucket is in another region: put that region in the backup target URL (s3://bucket@region/path/)"
        case .parameterNotFound, .parameterVersionNotFound:
            "check the parameter name and the region; list candidates with `aws ssm describe-parameters`"
        case .invalidKeyId:
            "the KMS key of this SecureString is disabled or not usable by these credentials"
        case .slowDown, .throttlingException:
            "the service is throttling requests: retry later or lower the concurrency"
        default:
            nil
        }
    }
}
