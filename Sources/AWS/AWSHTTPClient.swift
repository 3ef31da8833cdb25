import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// Sends signed requests to AWS endpoints (and S3-compatible stores) over HTTP/1.1 or HTTPS.
///
/// Every attempt is signed afresh with the current time, the `Host` header is set to exactly the
/// value that was signed (``AWSHTTPRequest/hostHeader``), and idempotent requests are retried with
/// backoff on throttling, 5xx answers and broken connections. TLS certificates are always verified;
/// a custom CA (Longhorn's `AWS_CERT`) is trusted *in addition to* the system roots, as Longhorn does.
///
/// Create one with ``withClient(caPEM:retry:logger:isolation:_:)`` or call ``shutdown()`` when done.
public final class AWSHTTPClient: Sendable {
    let http: HTTPClient
    public let retry: AWSRetryPolicy
    let logger: Logger
    /// The signing clock; injected so tests can exercise `RequestTimeTooSkewed`.
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - caPEM: Extra CA certificates (PEM) to trust, e.g. `AWS_CERT` from the backup-target Secret.
    ///   - retry: How idempotent requests are retried.
    ///   - requestTimeout: The deadline of one attempt.
    /// - Throws: `AWSError` `.invalidEndpoint` when `caPEM` holds no usable certificate.
    public init(
        caPEM: String? = nil,
        retry: AWSRetryPolicy = AWSRetryPolicy(),
        connectTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "longhorn-dr.aws", factory: { _ in SwiftLogNoOpLogHandler() }),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(AWSError) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caPEM, !caPEM.trimmingWhitespace().isEmpty {
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8))
                guard !certificates.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
                tls.additionalTrustRoots = [.certificates(certificates)]
            } catch {
                throw AWSError(
                    code: .invalidEndpoint, subject: "AWS_CERT", detail: "holds no PEM certificate that can be loaded (\(error))",
                    hint: "put the CA certificate of the S3 endpoint, PEM encoded (-----BEGIN CERTIFICATE-----), in AWS_CERT")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .init(connectTimeout), read: .seconds(60))
        configuration.httpVersion = .http1Only
        // S3 stores objects as sent; transparent decompression would corrupt what we checksum.
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.retry = retry
        self.logger = logger
        self.now = now
    }

    /// Runs `body` with a client and always shuts it down.
    public static func withClient<T: Sendable>(
        caPEM: String? = nil,
        retry: AWSRetryPolicy = AWSRetryPolicy(),
        logger: Logger = Logger(label: "longhorn-dr.aws", factory: { _ in SwiftLogNoOpLogHandler() }),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (AWSHTTPClient) async throws -> T
    ) async throws -> T {
        let client = try AWSHTTPClient(caPEM: caPEM, retry: retry, logger: logger)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// What a call needs besides the request: how to sign it and how to name it in errors.
    public struct Call: Sendable {
        public var signer: SigV4Signer
        /// `s3://bucket/key` or `SSM parameter /name`: the object named in errors and logs.
        public var subject: String
        /// Safe to send twice (GET, HEAD, PUT of a whole object, GetParameter): retried on failure.
        public var idempotent: Bool
        /// The largest body accepted; a bigger answer is an error, not an allocation.
        public var maxBodyBytes: Int
        public var timeout: Duration

        public init(signer: SigV4Signer, subject: String, idempotent: Bool, maxBodyBytes: Int = 256 << 20, timeout: Duration = .seconds(120)) {
            self.signer = signer
            self.subject = subject
            self.idempotent = idempotent
            self.maxBodyBytes = maxBodyBytes
            self.timeout = timeout
        }
    }

    /// Signs and sends `request`, retrying as the policy allows.
    ///
    /// - Parameters:
    ///   - decodeError: Turns a non-2xx answer into the service's typed error; consulted to decide
    ///     whether a 4xx is a throttling code worth retrying.
    /// - Returns: the answer, whatever its status, after the last attempt; the caller decides
    ///   which statuses are errors (a HEAD 404 is an answer, not a failure).
    /// - Throws: `AWSError` `.endpointUnreachable` when no attempt got an answer.
    public func send(
        _ request: AWSHTTPRequest,
        call: Call,
        decodeError: (AWSHTTPResponse) -> AWSError
    ) async throws(AWSError) -> AWSHTTPResponse {
        var attempt = 0
        let payloadHash = SigV4Signer.sha256Hex(request.body)
        while true {
            attempt += 1
            let signed = call.signer.signed(request, payloadHash: payloadHash, date: now())
            do {
                let response = try await execute(signed, call: call)
                if response.isSuccess || !call.idempotent || attempt >= retry.maxAttempts {
                    logResponse(response, request: request, call: call, attempt: attempt)
                    return response
                }
                let retryable =
                    AWSRetryPolicy.isRetryable(status: response.status)
                    || (response.status >= 400 && AWSRetryPolicy.isRetryable(code: decodeError(response).code))
                guard retryable else {
                    logResponse(response, request: request, call: call, attempt: attempt)
                    return response
                }
                logger.debug(
                    "retrying after HTTP \(response.status)",
                    metadata: ["subject": "\(call.subject)", "attempt": "\(attempt)", "request-id": "\(response.requestID ?? "-")"])
            } catch let error as AWSError {
                throw error
            } catch is CancellationError {
                throw AWSError(code: .endpointUnreachable, subject: call.subject, detail: "cancelled", underlying: CancellationError())
            } catch {
                if Task.isCancelled {
                    throw AWSError(code: .endpointUnreachable, subject: call.subject, detail: "cancelled", underlying: CancellationError())
                }
                // AsyncHTTPClient already keeps retrying a refused connect until the connect
                // timeout, so one more attempt of ours is enough for a flapping endpoint.
                guard call.idempotent, attempt < min(retry.maxAttempts, 2) else {
                    throw AWSError(
                        code: .endpointUnreachable, subject: call.subject,
                        detail: "cannot reach \(request.scheme)://\(request.hostHeader): \(Self.describe(error))"
                            + (attempt > 1 ? " (after \(attempt) attempts)" : ""),
                        hint: "check that the endpoint is up and reachable from here (AWS_ENDPOINTS or --endpoint for S3-compatible stores)",
                        underlying: error)
                }
                logger.debug("retrying after \(Self.describe(error))", metadata: ["subject": "\(call.subject)", "attempt": "\(attempt)"])
            }
            do {
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
            } catch {
                throw AWSError(code: .endpointUnreachable, subject: call.subject, detail: "cancelled", underlying: error)
            }
        }
    }

    private func execute(_ request: AWSHTTPRequest, call: Call) async throws -> AWSHTTPResponse {
        guard let url = request.url else {
            throw AWSError(code: .invalidRequest, subject: call.subject, detail: "the request cannot be written as a URL (host \(request.host))")
        }
        var outgoing = HTTPClientRequest(url: url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method.uppercased())
        // The signature covers the Host header: send exactly the value that was signed.
        outgoing.headers.replaceOrAdd(name: "Host", value: request.hostHeader)
        outgoing.headers.add(name: "User-Agent", value: "longhorn-dr")
        for header in request.headers where header.name.lowercased() != "host" {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || request.method.uppercased() == "PUT" || request.method.uppercased() == "POST" {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let response = try await http.execute(outgoing, timeout: .init(call.timeout))
        let isHead = request.method.uppercased() == "HEAD"
        let collected = isHead ? ByteBuffer() : try await response.body.collect(upTo: call.maxBodyBytes)
        return AWSHTTPResponse(
            status: Int(response.status.code),
            headers: response.headers.map { AWSHTTPRequest.Header($0.name, $0.value) },
            // No copy: the Data keeps the collected buffer alive. A block's body is a megabyte or
            // more, and copying it showed in `backup verify`'s profile.
            body: collected.getData(at: collected.readerIndex, length: collected.readableBytes, byteTransferStrategy: .noCopy) ?? Data())
    }

    private func logResponse(_ response: AWSHTTPResponse, request: AWSHTTPRequest, call: Call, attempt: Int) {
        // Request ids belong in debug logs (support tickets), never in operator messages.
        logger.debug(
            "\(request.method) \(call.subject) -> HTTP \(response.status)",
            metadata: ["attempt": "\(attempt)", "request-id": "\(response.requestID ?? "-")"])
    }

    /// Connection errors described without internals that mean nothing to an operator.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .connectTimeout { return "connection timed out" }
            if error == .deadlineExceeded || error == .readTimeout { return "no answer in time" }
            if error == .remoteConnectionClosed { return "the server closed the connection" }
            return "\(error)"
        }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
