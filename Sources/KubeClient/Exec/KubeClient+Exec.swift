import Crypto
import Foundation
import KubeModels
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

extension KubeClient {
    /// Runs `command` in a container of a pod over WebSocket (`v5.channel.k8s.io`), sending `stdin`
    /// (then end-of-file) when given, and collects stdout, stderr and the exit code.
    ///
    /// A non-zero exit code is returned in ``ExecResult``, not thrown.
    /// - Throws: `KubeClientError` when the server refuses (unknown pod or container, completed pod,
    ///   bad credentials: the server's Status), the connection fails, or `timeout` passes (the error
    ///   names the pod and the command).
    public func exec(
        namespace: String, pod: String, container: String? = nil, command: [String], stdin: Data? = nil,
        timeout: Duration = .seconds(60)
    ) async throws(KubeClientError) -> ExecResult {
        let subject = "exec \(command) in pod \(namespace)/\(pod)" + (container.map { " container \($0)" } ?? "")
        var query: [(String, String)] = command.map { ("command", $0) }
        if let container { query.append(("container", container)) }
        query += [("stdout", "true"), ("stderr", "true")]
        if stdin != nil { query.append(("stdin", "true")) }
        let path = GroupVersionResource.pods.path(namespace: namespace, name: pod, subresource: "exec")
        let target = Self.requestTarget(path: path, query: query)
        let authorization: String?
        do {
            authorization = try await authenticator.authorizationHeader()?.revealed
        } catch {
            throw KubeClientError(.configuration, subject: "credentials for \(baseURL)", detail: "\(error)", cause: error)
        }
        let connection = ExecConnection(
            server: cluster.server, tls: cluster.tls, target: target, authorization: authorization, subject: subject)
        do {
            return try await withThrowingTaskGroup(of: ExecResult?.self) { group in
                group.addTask { try await connection.run(stdin: stdin) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let result = first else {
                    throw KubeClientError(
                        .timeout, subject: subject, detail: "the command did not finish within \(timeout)",
                        hint: "raise the timeout, or check what the command waits for (stdin, a lock, the network)")
                }
                return result
            }
        } catch let ended as ExecEndedEmpty {
            // The session ended before a single frame arrived. A refusal the server sends right
            // after the upgrade (completed pod, unknown container) can be lost that way under
            // load; the same request without the upgrade gets its Status. Anything else (a 2xx,
            // "upgrade required") leaves the connection's own error.
            if let response = try? await send(.GET, path: path, query: query, subject: subject), !(200..<300).contains(response.status) {
                let refusal = KubeClientError.from(status: response.status, body: response.body, subject: subject)
                if !refusal.detail.localizedCaseInsensitiveContains("upgrade") { throw refusal }
            }
            throw ended.error
        } catch let error as KubeClientError {
            guard error.httpStatus != nil, error.status == nil else { throw error }
            // NIO's upgrade handler keeps the refusal's head but not always its body; the same request
            // without the upgrade gets the server's Status (unknown container, completed pod, ...).
            let response = try await send(.GET, path: path, query: query, subject: subject)
            guard (200..<300).contains(response.status) else {
                throw KubeClientError.from(status: response.status, body: response.body, subject: subject)
            }
            throw error
        } catch {
            throw KubeClientError(
                .transport, subject: subject, detail: "exec stream to \(baseURL) failed: \(Self.describe(error))",
                hint: "check that the cluster is up and the kubeconfig points at it")
        }
    }

    /// `/path?query` with the same escaping as REST requests.
    static func requestTarget(path: String, query: [(String, String)]) -> String {
        let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+;,/?:@"))
        let encoded = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
        return encoded.isEmpty ? path : path + "?" + encoded.joined(separator: "&")
    }
}

/// One exec session: a TLS (or plain) TCP connection, the HTTP/1.1 upgrade handshake done by
/// SwiftNIO's typed client upgrader, then remote-command frames.
///
/// Bytes that arrive in the same read as the `101` are kept: the HTTP decoder forwards what it holds
/// past the head when it is removed, the typed upgrader buffers everything received until the upgrade
/// pipeline is configured, and the frame stream is attached synchronously inside that configuration,
/// before the buffer is replayed.
struct ExecConnection: Sendable {
    var server: URL
    var tls: TLSSettings
    var target: String
    var authorization: String?
    var subject: String

    enum Upgrade: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, subprotocol: String?)
        case refused(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    func run(stdin: Data?) async throws -> ExecResult {
        guard let host = server.host, !host.isEmpty else {
            throw KubeClientError(.configuration, subject: subject, detail: "the server URL \(server.absoluteString) has no host")
        }
        let secure = server.scheme?.lowercased() == "https"
        let port = server.port ?? (secure ? 443 : 80)
        let sslContext: NIOSSLContext?
        if secure {
            do {
                var configuration = try tls.makeTLSConfiguration()
                configuration.applicationProtocols = ["http/1.1"]
                sslContext = try NIOSSLContext(configuration: configuration)
            } catch {
                throw KubeClientError(.configuration, subject: "kubeconfig cluster \(server.absoluteString)", detail: "\(error)", cause: error)
            }
        } else {
            sslContext = nil
        }
        // SNI carries DNS names only; for an IP address NIOSSL checks the certificate's IP SANs
        // against the peer address instead.
        let sni = tls.serverName ?? (Self.isIPAddress(host) ? nil : host)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: server.port == nil ? host : "\(host):\(port)")
        headers.add(name: "User-Agent", value: "longhorn-dr")
        headers.add(name: "Sec-WebSocket-Protocol", value: ExecChannelProtocol.v5)
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        let upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                    }
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 24) { channel, response in
                        channel.eventLoop.makeCompletedFuture {
                            let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                            return Upgrade.upgraded(frames, subprotocol: response.headers.first(name: "Sec-WebSocket-Protocol"))
                        }
                    }
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                .refused(try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel))
                            }
                        })
                    var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                    // Frames that came in the same read as the 101 sit in the HTTP decoder when it
                    // is removed; NIO's default drops them (a lost exit status on a busy machine).
                    pipeline.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                }
            }
            .get()
        switch upgrade {
        case .refused(let http):
            throw try await refusal(http)
        case .upgraded(let frames, let subprotocol):
            guard subprotocol == ExecChannelProtocol.v5 else {
                try? await frames.channel.close()
                throw KubeClientError(
                    .serverError, subject: subject,
                    detail: "the server accepted the WebSocket upgrade with subprotocol \(subprotocol ?? "none"), not \(ExecChannelProtocol.v5)",
                    hint: "the API server (or a proxy in front of it) does not speak the Kubernetes exec protocol v5")
            }
            // A timeout cancels this task; closing the channel is what ends a read that waits for the server.
            return try await withTaskCancellationHandler {
                try await session(frames, stdin: stdin)
            } onCancel: {
                frames.channel.close(promise: nil)
            }
        }
    }

    /// The server answered the upgrade with a plain HTTP response: turn its Status into the error.
    private func refusal(_ http: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) async throws -> KubeClientError {
        try await http.executeThenClose { inbound, _ in
            var status = 0
            var body = Data()
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head): status = Int(head.status.code)
                    case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
                    case .end: return KubeClientError.from(status: status, body: body, subject: subject)
                    }
                }
            } catch  where status != 0 && !body.isEmpty {
                // A server that closes the connection abruptly right after its answer (no TLS
                // close_notify) still gave its answer: report that, not the broken connection.
            }
            return KubeClientError.from(status: status, body: body, subject: subject)
        }
    }

    private func session(_ frames: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, stdin: Data?) async throws -> ExecResult {
        try await frames.executeThenClose { inbound, outbound in
            if let stdin {
                var offset = 0
                while offset < stdin.count {
                    let chunk = stdin[
                        stdin.index(stdin.startIndex, offsetBy: offset)..<stdin.index(stdin.startIndex, offsetBy: min(stdin.count, offset + 32 << 10))]
                    try await outbound.write(Self.frame(opcode: .binary, [ExecChannelProtocol.stdin] + chunk))
                    offset += chunk.count
                }
                try await outbound.write(Self.frame(opcode: .binary, [ExecChannelProtocol.close, ExecChannelProtocol.stdin]))
            }
            var result = ExecResult(exitCode: 0)
            var statusSeen: JSONValue?
            var message = [UInt8]()
            for try await frame in inbound {
                switch frame.opcode {
                case .binary, .continuation:
                    message += Array(frame.unmaskedData.readableBytesView)
                    guard frame.fin, let channel = message.first else { continue }
                    let payload = Data(message.dropFirst())
                    message.removeAll()
                    switch channel {
                    case ExecChannelProtocol.stdout: result.stdout.append(payload)
                    case ExecChannelProtocol.stderr: result.stderr.append(payload)
                    case ExecChannelProtocol.status: statusSeen = try? JSONValue(parsing: payload)
                    default: break
                    }
                case .ping:
                    try await outbound.write(Self.frame(opcode: .pong, Array(frame.unmaskedData.readableBytesView)))
                case .connectionClose:
                    // Echo the close code, as RFC 6455 asks, then stop reading.
                    let payload = Array(frame.unmaskedData.readableBytesView)
                    try? await outbound.write(Self.frame(opcode: .connectionClose, Array(payload.prefix(2))))
                    return try finish(result, status: statusSeen, ending: Self.describeClose(payload))
                default:
                    continue
                }
            }
            return try finish(result, status: statusSeen, ending: "the connection closed without a close frame")
        }
    }

    /// A close frame's code and reason, as the error names them.
    static func describeClose(_ payload: [UInt8]) -> String {
        guard payload.count >= 2 else { return "the server closed the stream without a code" }
        let code = Int(payload[0]) << 8 | Int(payload[1])
        let reason = String(decoding: payload.dropFirst(2), as: UTF8.self)
        return "the server closed the stream with code \(code)" + (reason.isEmpty ? "" : ": \(reason)")
    }

    private func finish(_ result: ExecResult, status: JSONValue?, ending: String) throws -> ExecResult {
        guard let status else {
            let error = KubeClientError(
                .transport, subject: subject,
                detail:
                    "the connection ended before the command's exit status arrived (\(ending); \(result.stdout.count) bytes of stdout, \(result.stderr.count) of stderr)",
                hint: "the container may have been stopped; run the command again")
            if result.stdout.isEmpty, result.stderr.isEmpty { throw ExecEndedEmpty(error: error) }
            throw error
        }
        guard let code = ExecChannelProtocol.exitCode(fromStatus: status) else {
            // A failure other than the command's exit (unknown container, completed pod): the Status
            // carries the HTTP code it stands for.
            var full = status
            if full["kind"] == nil { full["kind"] = "Status" }
            throw KubeClientError.from(status: status["code"]?.intValue ?? 500, body: full.encoded(), subject: subject)
        }
        var result = result
        result.exitCode = code
        return result
    }

    /// A client frame: always masked (RFC 6455 section 5.3).
    static func frame(opcode: WebSocketOpcode, _ bytes: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(bytes: bytes))
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// `Sec-WebSocket-Accept` for a request key (RFC 6455 section 4.2.2).
    static func acceptValue(forKey key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + ExecChannelProtocol.acceptGUID).utf8))).base64EncodedString()
    }
}

/// An exec session that ended before any frame arrived (see `exec`'s fallback).
struct ExecEndedEmpty: Error {
    var error: KubeClientError
}
