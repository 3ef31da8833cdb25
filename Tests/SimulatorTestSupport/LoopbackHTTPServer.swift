import Hummingbird
import HummingbirdCore
import Logging

/// A test's HTTP(S) server on 127.0.0.1 at a free port, for as long as the test's body runs.
public enum LoopbackHTTPServer {
    /// Runs `responder` until `body` (given the port) returns or throws, then stops it.
    public static func serve<T: Sendable, Responder: HTTPResponder>(
        _ responder: Responder, server: HTTPServerBuilder = .http1(), _ body: (Int) async throws -> T
    ) async throws -> T where Responder.Context == BasicRequestContext {
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            let app = Application(
                responder: responder, server: server, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in
                    readyContinuation.yield(channel.localAddress?.port ?? 0)
                    readyContinuation.finish()
                }, logger: Logger(label: "loopback-http-server", factory: { _ in SwiftLogNoOpLogHandler() }))
            // A server that cannot listen ends the wait for its port, instead of hanging the test.
            defer { readyContinuation.finish() }
            try await app.runService(gracefulShutdownSignals: [])
        }
        var iterator = ready.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw LoopbackServerError()
        }
        do {
            let result = try await body(port)
            task.cancel()
            _ = await task.result
            return result
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }
}

public struct LoopbackServerError: Error, CustomStringConvertible {
    public var description: String { "the test's HTTP server did not start listening on 127.0.0.1" }
}
