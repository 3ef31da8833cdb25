import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 channel with the WebSocket upgrade, made to answer requests that ask for any
/// other protocol (kubectl's SPDY/3.1 exec fallback) instead of dropping them.
///
/// NIO's upgrade handler loses the request head when a request names a protocol it has no upgrader
/// for, so the connection closed with no reply (checklist item 52). This wrapper takes such an
/// `Upgrade` header off before the upgrade handler sees it, keeps its value in
/// `APIRequest.refusedUpgradeHeader`, and marks the request `Connection: close` (the HTTP decoder
/// stops parsing after an upgrade request). The API handler then answers with a Status.
struct ForeignUpgradeChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let upgrader = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try operations.addHandler(ForeignUpgradeStripper(), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Rewrites request heads whose `Upgrade` is anything but `websocket` into plain requests.
final class ForeignUpgradeStripper: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), let upgrade = head.headers.first(name: "upgrade") else {
            context.fireChannelRead(data)
            return
        }
        guard upgrade.lowercased() != "websocket" else {
            // After a WebSocket upgrade, frames (not HTTP parts) come this way; this handler's work
            // on the connection is done either way, because HTTP parsing stops after an upgrade request.
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        head.headers.remove(name: "upgrade")
        head.headers.replaceOrAdd(name: "connection", value: "close")
        head.headers.replaceOrAdd(name: APIRequest.refusedUpgradeHeader, value: upgrade)
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
