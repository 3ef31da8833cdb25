import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import NIOTLS

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
