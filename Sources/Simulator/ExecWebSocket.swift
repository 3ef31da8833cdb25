import Foundation
import HTTPTypes
import HummingbirdWebSocket
import KubeModels
import Logging
import NIOCore
import NIOWebSocket

/// Pod exec over WebSocket, as kubectl 1.30+ speaks it (`v5.channel.k8s.io`, and `v4.channel.k8s.io`
/// for older clients). Frames are binary; the first byte is the channel: 0 stdin, 1 stdout, 2 stderr,
/// 3 one final Status, 255 (v5) a half-close, `[255, 0]` meaning stdin reached EOF. The session ends
/// with the Status on channel 3 and a close frame 1000. Pings are answered by the WebSocket layer.
///
/// Bad credentials or no protocol we speak: no upgrade (Hummingbird then answers a bare 400). A pod or
/// container that cannot run the command (unknown container, completed pod) is reported after the
/// upgrade as the channel-3 Status, as the kubelet does, so clients print the server's message
/// rather than falling back to SPDY.
enum ExecWebSocket {
    static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    static func shouldUpgrade(
        _ head: HTTPRequest, channel: any Channel, cluster: SimulatedCluster, token: String, tls: Bool
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let target = head.path ?? ""
        let pathPart = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        let query = APIRequest.parseQuery(target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : "")
        guard let path = APIPath(pathPart), path.subresource == "exec" || path.subresource == "attach",
            path.resource == "pods", let namespace = path.namespace, let podName = path.name
        else { return .dontUpgrade }
        let headers = Dictionary(head.headerFields.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { "\($0),\($1)" })
        guard let user = await SimulatorServer.authenticate(headers: headers, channel: channel, access: cluster.access, token: token, tls: tls),
            await RBACAuthorizer.check(
                user,
                .init(
                    verb: "create", group: "", resource: "pods", subresource: path.subresource,
                    namespace: namespace, name: podName), store: cluster.store) == nil
        else { return .dontUpgrade }
        let offered = (headers["sec-websocket-protocol"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let chosen = protocols.first(where: offered.contains) else { return .dontUpgrade }
        guard path.subresource == "exec" else { return .dontUpgrade }
        let request = APIRequest(method: "GET", path: pathPart, query: query, headers: headers)
        let command = query["command"] ?? []
        let container = request.parameter("container")
        let wantsStdin = ["true", "1"].contains(request.parameter("stdin"))
        var fields = HTTPFields()
        fields[.secWebSocketProtocol] = chosen
        let runtime = cluster.runtime
        let v5 = chosen.hasPrefix("v5")
        let handler: WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context> = { inbound, outbound, _ in
            try await serve(
                inbound: inbound, outbound: outbound, runtime: runtime, namespace: namespace, pod: podName,
                container: container, command: command, stdin: wantsStdin, v5: v5)
        }
        return .upgrade(fields, handler)
    }

    static func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, runtime: ContainerRuntime,
        namespace: String, pod: String, container: String?, command: [String], stdin: Bool, v5: Bool
    ) async throws {
        let process: ContainerProcess
        do {
            process = try await runtime.exec(namespace: namespace, pod: pod, container: container, command: command, stdin: stdin)
        } catch {
            // The pod changed between the check and now: report it on the error channel like the kubelet.
            try await outbound.writeBinaryMessage(frame(3, error.status.json.encoded()))
            try await outbound.close(.normalClosure, reason: nil)
            // Wait (briefly) for the client's side of the close, so closing the connection cannot
            // reset it while the Status is still in flight.
            await drain(inbound, within: .seconds(2))
            return
        }
        // Whatever ends the session (the command, the client leaving), the process does not outlive it.
        defer { process.terminate() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in inbound.messages(maxSize: 16 << 20) {
                    guard case .binary(var buffer) = message, let channel = buffer.readInteger(as: UInt8.self) else { continue }
                    switch channel {
                    case 0: process.writeStdin(Data(buffer.readableBytesView))
                    case 255 where v5 && buffer.readableBytesView.first == 0: process.closeStdin()
                    default: break
                    }
                }
                // The client went away: nothing more will come on stdin.
                process.closeStdin()
            }
            var exitCode: Int32 = 0
            for await output in process.output {
                switch output {
                case .stdout(let data): try await outbound.writeBinaryMessage(frame(1, data))
                case .stderr(let data): try await outbound.writeBinaryMessage(frame(2, data))
                case .exited(let code): exitCode = code
                }
            }
            try await outbound.writeBinaryMessage(frame(3, status(exitCode: exitCode).encoded()))
            try await outbound.close(.normalClosure, reason: nil)
            // Wait (briefly) for the client's side of the close, as on the error path: closing the
            // connection with the client's frames unread resets it, and a reset can drop the
            // Status still in flight (seen as "ended before the exit status" on a busy machine).
            group.addTask { try? await Task.sleep(for: .seconds(2)) }
            _ = try? await group.next()
            group.cancelAll()
        }
    }

    /// The channel-3 Status: Success, or NonZeroExitCode with the code as an ExitCode cause.
    static func drain(_ inbound: WebSocketInboundStream, within limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { do { for try await _ in inbound {} } catch {} }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    static func status(exitCode: Int32) -> JSONValue {
        guard exitCode != 0 else { return ["metadata": [:], "status": "Success"] }
        return [
            "metadata": [:], "status": "Failure", "reason": "NonZeroExitCode",
            "message": .string("command terminated with non-zero exit code: exit status \(exitCode)"),
            "details": ["causes": [["reason": "ExitCode", "message": .string(String(exitCode))]]],
        ]
    }

    static func frame(_ channel: UInt8, _ data: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(channel)
        buffer.writeBytes(data)
        return buffer
    }
}
