import AsyncHTTPClient
import Foundation
import KubeModels
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOSSL

/// A Kubernetes API client: REST verbs on JSON objects, paging, watches that resume, waits built
/// on watches, and retries with backoff for idempotent requests.
///
/// Create one with ``withClient(_:logger:_:)`` (it shuts the HTTP connections down afterwards)
/// or call ``shutdown()`` yourself.
public final class KubeClient: Sendable {
    public let cluster: ResolvedCluster
    public let retry: RetryPolicy
    let http: HTTPClient
    let authenticator: RequestAuthenticator
    let logger: Logger
    let baseURL: String
    let informers = InformerRegistry()

    /// HTTP/1.1 connections per API server: the informers' watches (one per kind a run waits on,
    /// about eight) plus room for the requests made meanwhile.
    public static let http1ConnectionLimit = 16

    public init(
        cluster: ResolvedCluster, retry: RetryPolicy = RetryPolicy(),
        logger: Logger = Logger(label: "longhorn-dr.kube", factory: { _ in SwiftLogNoOpLogHandler() }),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeClientError) {
        self.cluster = cluster
        self.retry = retry
        self.logger = logger
        if cluster.tls.serverName != nil {
            throw KubeClientError(
                .configuration, subject: "kubeconfig cluster \(cluster.server.absoluteString)",
                detail: "tls-server-name is not supported yet", hint: "reach the API server by a name its certificate holds, or remove tls-server-name")
        }
        var tls: TLSConfiguration
        do {
            tls = try cluster.tls.makeTLSConfiguration()
        } catch {
            throw KubeClientError(.configuration, subject: "kubeconfig cluster \(cluster.server.absoluteString)", detail: "\(error)", cause: error)
        }
        // HTTP/2 when the server offers it (the kube-apiserver does): every watch and request
        // shares one multiplexed connection. Behind a proxy that speaks only HTTP/1.1, each open
        // watch holds a connection of its own; the informers keep that to one per kind, and the
        // pool leaves room beside them for the requests.
        tls.applicationProtocols = ["h2", "http/1.1"]
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // Watches and followed logs stay quiet for minutes; per-request deadlines bound the rest.
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: nil)
        configuration.httpVersion = .automatic
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.http1ConnectionLimit)
        configuration.decompression = .enabled(limit: .none)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.authenticator = RequestAuthenticator(credentials: cluster.credentials, environment: environment)
        var base = cluster.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    /// Runs `body` with a client and always shuts it down.
    public static func withClient<T>(
        _ cluster: ResolvedCluster, retry: RetryPolicy = RetryPolicy(), isolation: isolated (any Actor)? = #isolation,
        _ body: (KubeClient) async throws -> sending T
    ) async throws -> sending T {
        let client = try KubeClient(cluster: cluster, retry: retry)
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
        await informers.removeAll()
        try await http.shutdown()
    }

    /// The namespace from the kubeconfig context (or in-cluster namespace).
    public var defaultNamespace: String { cluster.namespace }

    // MARK: - Raw requests

    struct RawResponse: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    /// Sends one request and collects the answer, retrying idempotent requests on throttling,
    /// server errors and broken connections.
    func send(
        _ method: HTTPMethod, path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String = "application/json", accept: String = "application/json", subject: String,
        timeout: Duration = .seconds(60)
    ) async throws(KubeClientError) -> RawResponse {
        let idempotent = [.GET, .HEAD, .DELETE, .PUT].contains(method)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let request = try await makeRequest(method, path: path, query: query, body: body, contentType: contentType, accept: accept)
                let response = try await http.execute(request, timeout: .init(timeout))
                let collected = try await response.body.collect(upTo: 256 << 20)
                let status = Int(response.status.code)
                if status == 401 { await authenticator.requestWasUnauthorized() }
                if idempotent, attempt < retry.maxAttempts, RetryPolicy.isRetryable(status: status) || (status == 401 && attempt == 1 && isExec) {
                    let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
                    logger.debug("retrying after HTTP \(status)", metadata: ["subject": "\(subject)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: retry.delay(afterAttempt: attempt, retryAfterSeconds: retryAfter))
                    continue
                }
                return RawResponse(status: status, headers: response.headers, body: Data(collected.readableBytesView))
            } catch let error as KubeClientError {
                throw error
            } catch {
                if Task.isCancelled { throw KubeClientError(.transport, subject: subject, detail: "cancelled") }
                if idempotent, attempt < retry.maxAttempts {
                    logger.debug("retrying after \(type(of: error))", metadata: ["subject": "\(subject)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: retry.delay(afterAttempt: attempt))
                    continue
                }
                throw KubeClientError(
                    .transport, subject: subject, detail: "cannot reach \(baseURL): \(Self.describe(error))",
                    hint: "check that the cluster is up and the kubeconfig points at it", cause: error)
            }
        }
    }

    private var isExec: Bool {
        if case .exec = cluster.credentials { return true }
        return false
    }

    func makeRequest(
        _ method: HTTPMethod, path: String, query: [(String, String)], body: Data?, contentType: String, accept: String
    ) async throws(KubeClientError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path: path, query: query))
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "longhorn-dr")
        do {
            if let header = try await authenticator.authorizationHeader() {
                request.headers.add(name: "Authorization", value: header.revealed)
            }
        } catch {
            throw KubeClientError(.configuration, subject: "credentials for \(baseURL)", detail: "\(error)", cause: error)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    func url(path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return baseURL + path }
        let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+;,/?:@"))
        let encoded = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
        return baseURL + path + "?" + encoded.joined(separator: "&")
    }

    /// Connection errors described without internals that mean nothing to an operator.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        return "\(error)"
    }

    /// Turns a non-2xx answer into a typed error; returns the parsed JSON body otherwise.
    func json(_ response: RawResponse, subject: String) throws(KubeClientError) -> JSONValue {
        guard (200..<300).contains(response.status) else {
            throw KubeClientError.from(status: response.status, body: response.body, subject: subject)
        }
        do {
            return try JSONValue(parsing: response.body)
        } catch {
            throw KubeClientError(.decoding, subject: subject, detail: "the server's answer is not JSON: \(error)", cause: error)
        }
    }
}
