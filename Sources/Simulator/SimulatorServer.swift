import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import HummingbirdWebSocket
import KubeModels
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import NIOSSL

/// Serves a simulated cluster over real HTTP or HTTPS on loopback, so kubectl and our client
/// talk to it exactly as they would to a kube-apiserver.
public enum SimulatorServer {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        /// 0 = any free port.
        public var port = 0
        public var tls = true
        /// Offer HTTP/2 (ALPN `h2`) besides HTTP/1.1, as the kube-apiserver does; false serves
        /// HTTP/1.1 only, like a proxy that speaks nothing newer. TLS only: h2 without TLS needs
        /// prior knowledge, which kubectl does not use. Off by default in-process (tests, the
        /// simulated exercise): under heavy load, WebSocket exec behind the ALPN negotiation lost
        /// output now and then (not understood yet); `sim serve` turns it on.
        public var http2 = false
        /// Bearer token accepted besides the client certificate; nil = a random one.
        public var token: String?
        /// Hummingbird's own log level; its shutdown chatter is noise in tests.
        public var logLevel: Logger.Level = .critical
        public init() {}
    }

    /// How to reach a running server; renders a kubeconfig for it.
    public struct Endpoint: Sendable {
        public var url: String
        public var token: String
        public var authority: CertificateAuthority?

        /// A kubeconfig with two users: `admin` (client certificate) and `token` (bearer token).
        public func kubeconfig(user: String = "admin", clusterName: String = "longhorn-dr-sim") -> String {
            let b64: (String) -> String = { Data($0.utf8).base64EncodedString() }
            var clusterLines = "    server: \(url)\n"
            if let authority { clusterLines += "    certificate-authority-data: \(b64(authority.ca.certificatePEM))\n" }
            var users = "- name: token\n  user:\n    token: \(token)\n"
            if let authority {
                users +=
                    "- name: admin\n  user:\n    client-certificate-data: \(b64(authority.client.certificatePEM))\n    client-key-data: \(b64(authority.client.privateKeyPEM))\n"
            }
            let chosen = authority == nil ? "token" : user
            return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: \(clusterName)
                  cluster:
                \(clusterLines.split(separator: "\n").map { "  \($0.dropFirst(2))" }.joined(separator: "\n"))
                users:
                \(users.split(separator: "\n").joined(separator: "\n"))
                contexts:
                - name: \(clusterName)
                  context:
                    cluster: \(clusterName)
                    user: \(chosen)
                    namespace: default
                current-context: \(clusterName)

                """
        }
    }

    /// Runs the server until the calling task is cancelled; `onReady` gets the endpoint once it listens.
    public static func run(
        _ cluster: SimulatedCluster, options: Options = Options(), logger: Logger = Logger(label: "longhorn-dr.simulator"),
        onReady: @escaping @Sendable (Endpoint) async -> Void
    ) async throws {
        let token = options.token ?? randomToken()
        let authority = options.tls ? try CertificateAuthority() : nil
        let handler = cluster.handler
        let scheme = options.tls ? "https" : "http"
        let access = cluster.access
        let responder = CallbackResponder<SimulatorRequestContext> { request, context in
            try await respond(request, context: context, handler: handler, access: access, token: token, tls: options.tls)
        }
        // The apiserver accepts large exec frames (kubectl sends stdin in 32 KiB chunks).
        let http1: @Sendable (@escaping HTTPChannelHandler.Responder) -> ForeignUpgradeChannel<HTTP1WebSocketUpgradeChannel> = { responder in
            ForeignUpgradeChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: .init(ws: .init(maxFrameSize: 1 << 20))
                ) { head, channel, logger in
                    await ExecWebSocket.shouldUpgrade(head, channel: channel, cluster: cluster, token: token, tls: options.tls)
                })
        }
        let server: HTTPServerBuilder
        if let authority {
            var tlsConfig = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(authority.server.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.server.privateKeyPEM.utf8), format: .pem)))
            tlsConfig.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.ca.certificatePEM.utf8)))
            // Either a client certificate or a bearer token authenticates; a presented certificate must verify.
            tlsConfig.certificateVerification = .optionalVerification
            let serverTLS = tlsConfig
            if options.http2 {
                server = HTTPServerBuilder { responder in
                    try ALPNChannel(tlsConfiguration: serverTLS, http1: http1(responder), http2: HTTP2Channel(responder: responder))
                }
            } else {
                server = HTTPServerBuilder { responder in try HTTP1TLSChannel(http1(responder), tlsConfiguration: serverTLS) }
            }
        } else {
            server = HTTPServerBuilder { responder in http1(responder) }
        }
        var quietLogger = logger
        quietLogger.logLevel = options.logLevel
        let app = Application(
            responder: responder, server: server,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                // Pods get an in-cluster config (KUBERNETES_SERVICE_HOST/PORT, token, CA) over HTTPS only.
                if let authority {
                    await access.setEndpoint(ClusterAccess.Endpoint(host: options.host, port: port, caPEM: authority.ca.certificatePEM))
                }
                await onReady(Endpoint(url: "\(scheme)://\(options.host):\(port)", token: token, authority: authority))
            },
            logger: quietLogger)
        try await app.runService(gracefulShutdownSignals: [])
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Authenticates, converts to the library-independent request, and back.
    static func respond(_ request: Request, context: SimulatorRequestContext, handler: APIHandler, access: ClusterAccess, token: String, tls: Bool) async throws
        -> Response
    {
        let headers = Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { "\($0),\($1)" })
        let user = await authenticate(headers: headers, channel: context.channel, access: access, token: token, tls: tls)
        let body = try await request.body.collect(upTo: 64 << 20)
        var apiRequest = APIRequest(
            method: request.method.rawValue, path: request.uri.path,
            query: APIRequest.parseQuery(request.uri.query ?? ""), headers: headers, body: Data(buffer: body))
        let response: APIResponse
        // A TCP connection is named by the client's end (address and ephemeral port).
        apiRequest.connection = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" }
        apiRequest.httpVersion = tls ? (await connection(of: context.channel).http2 ? "2" : "1.1") : "1.1"
        if let user {
            apiRequest.user = user
            response = await handler.handle(apiRequest)
        } else {
            response = .error(.unauthorized())
        }
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .data(let data):
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        case .stream(let stream):
            return Response(status: status, headers: fields, body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        }
    }

    /// The admin token or a client certificate that verified against our CA (over TLS) mean the
    /// admin; a service-account token a pod was given means that service account; else nil (401).
    static func authenticate(headers: [String: String], channel: any Channel, access: ClusterAccess, token: String, tls: Bool) async -> RequestUser? {
        if let header = headers["authorization"] ?? headers["Authorization"], header.hasPrefix("Bearer ") {
            let presented = String(header.dropFirst("Bearer ".count))
            if presented == token { return .admin }
            return await access.user(forToken: presented)
        }
        guard tls else { return nil }
        return await connection(of: channel).clientCertificate ? .admin : nil
    }

    /// What the TLS connection a request came on says: whether the client presented a (verified)
    /// certificate, and whether the request came over HTTP/2. An h2 request arrives on a stream
    /// channel with TLS on its parent, the connection; an HTTP/1.1 connection holds TLS itself
    /// (its parent is the listening socket).
    static func connection(of channel: any Channel) async -> (clientCertificate: Bool, http2: Bool) {
        // A stream's parent is a connection, which itself has a parent (the listening socket,
        // on another event loop, never to be touched from this one).
        let connection = channel.parent.flatMap { $0.parent == nil ? nil : $0 } ?? channel
        let http2 = connection !== channel
        return
            (try? await connection.eventLoop.submit {
                let tls = try? connection.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                return (tls?.peerCertificate != nil, http2)
            }.get()) ?? (false, http2)
    }
}

/// Hummingbird's request context, plus the channel so we can ask TLS for the client certificate.
public struct SimulatorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
