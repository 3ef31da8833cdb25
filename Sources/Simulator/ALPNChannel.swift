import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import NIOWebSocket

/// TLS with ALPN, as the kube-apiserver serves it: `h2` for clients that offer it (kubectl,
/// client-go, our client), HTTP/1.1 for the rest, including WebSocket exec, which kubectl always
/// opens over HTTP/1.1.
///
/// Hummingbird's own HTTP/2 upgrade channel fixes its HTTP/1.1 side to the plain HTTP/1 channel;
/// this one takes any HTTP/1.1 channel, so the WebSocket upgrade and the foreign-upgrade answer
/// keep working. Without HTTP/2 the server uses Hummingbird's plain TLS channel instead.
struct ALPNChannel<HTTP1: ServerChildChannel>: ServerChildChannel {
    enum Negotiated: Sendable {
        case http1(HTTP1.Value)
        case http2(HTTP2Channel.Value)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    struct UnofferedProtocol: Error { var result: String }

    let context: NIOSSLContext
    let http1: HTTP1
    let http2: HTTP2Channel

    init(tlsConfiguration: TLSConfiguration, http1: HTTP1, http2: HTTP2Channel) throws {
        var configuration = tlsConfiguration
        configuration.applicationProtocols = ["h2", "http/1.1"]
        self.context = try NIOSSLContext(configuration: configuration)
        self.http1 = http1
        self.http2 = http2
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(NIOSSLServerHandler(context: context))
            try operations.addHandler(CloseOnTLSCloseNotify())
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, channel in
                switch result {
                case .negotiated("h2"):
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).map { .http1($0) }
                case .negotiated:
                    break
                }
                // A protocol this server never offered: a broken client; close.
                return channel.close().flatMapThrowing { throw UnofferedProtocol(result: "\(result)") }
            }
            try operations.addHandler(negotiation)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection):
                // When the server stops (this task is cancelled), the connection must close at
                // once: a stream the client opens after the handler stopped reading would be
                // dropped with its channel unfinished, which NIO treats as a fatal error.
                await withTaskCancellationHandler {
                    await http2.handle(value: connection, logger: logger)
                } onCancel: {
                    connection.channel.close(promise: nil)
                }
            }
        } catch {
            logger.debug("TLS or protocol negotiation failed: \(error)")
        }
    }
}

/// TLS around an HTTP/1.1 channel (Hummingbird's TLSChannel, plus closing on close_notify).
struct HTTP1TLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let context: NIOSSLContext
    let base: Base

    init(_ base: Base, tlsConfiguration: TLSConfiguration) throws {
        self.context = try NIOSSLContext(configuration: tlsConfiguration)
        self.base = base
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            try channel.pipeline.syncOperations.addHandler(CloseOnTLSCloseNotify())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes the connection when the client ends TLS (close_notify), as Go's server does. The
/// server channel allows half-closure, so NIOSSL only reports "input closed" and waits; the
/// client then waits its whole TLS shutdown timeout (5 s in NIOSSL) for the server's
/// close_notify, at the end of every client's life over HTTP/1.1.
final class CloseOnTLSCloseNotify: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A WebSocket (exec) ends by its own close handshake; closing it here lost the final
        // Status frame now and then under load.
        if case ChannelEvent.inputClosed = event, (try? context.pipeline.syncOperations.handler(type: WebSocketFrameEncoder.self)) == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
