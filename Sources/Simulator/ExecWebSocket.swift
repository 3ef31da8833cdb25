import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore

/// Pod exec over WebSocket (`v5.channel.k8s.io`). Until the pod runtime can run commands, every
/// upgrade is declined, so clients get the handler's 400 Status ("Upgrade request required")
/// instead of a hang.
enum ExecWebSocket {
    static func shouldUpgrade(
        _ head: HTTPRequest, channel: any Channel, cluster: SimulatedCluster, token: String, tls: Bool
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        .dontUpgrade
    }
}
