import Foundation
import KubeModels

/// The Kubernetes remote-command framing over WebSocket (`v5.channel.k8s.io`): binary messages
/// whose first byte is the stream. Pure functions, so the wire format is testable without a socket.
enum ExecChannelProtocol {
    static let v5 = "v5.channel.k8s.io"
    static let stdin: UInt8 = 0, stdout: UInt8 = 1, stderr: UInt8 = 2, status: UInt8 = 3, close: UInt8 = 255

    /// `Sec-WebSocket-Accept` for a key (RFC 6455 section 4.2.2), used to check the handshake in tests.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The exit code a channel-3 Status stands for; nil when it is a failure other than a non-zero exit.
    static func exitCode(fromStatus status: JSONValue) -> Int32? {
        if status["status"]?.stringValue == "Success" { return 0 }
        guard status["reason"]?.stringValue == "NonZeroExitCode" else { return nil }
        for cause in status[path: ["details", "causes"]]?.arrayValue ?? [] where cause["reason"]?.stringValue == "ExitCode" {
            if let text = cause["message"]?.stringValue, let code = Int32(text) { return code }
        }
        return nil
    }
}
