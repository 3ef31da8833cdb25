import Foundation

@testable import KubeClient

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 exchange on a plain loopback socket, for requests no HTTP client will send as
/// written (an `Upgrade` it cannot follow). Reads until the server closes or `limit` passes.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func exchange(port: Int, request: String, limit: Duration = .seconds(120)) async throws -> String {
        try await onThread { try exchangeBlocking(port: port, request: request, limit: limit) }
    }

    /// Runs blocking socket calls on a thread of their own, not on one of the few threads that
    /// run every test's async work.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    private static func exchangeBlocking(port: Int, request: String, limit: Duration) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)") }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw Failure(description: "send: errno \(errno)")
        }
        var reply = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw Failure(description: "no end of the answer within \(limit); got so far: \(String(decoding: reply, as: UTF8.self))")
            }
            if count <= 0 { break }
            reply += buffer[0..<count]
        }
        return String(decoding: reply, as: UTF8.self)
    }
}

/// A one-connection loopback server that answers the WebSocket upgrade with the `101` and the
/// given frames in a single `send`, as a busy API server's bytes can reach a client in one read.
final class RawWebSocketServer: Sendable {
    let port: Int
    private let listener: Int32

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw RawHTTP.Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw RawHTTP.Failure(description: "bind/listen on loopback: errno \(errno)")
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(listener) }

    /// An unmasked server frame: FIN, `opcode`, a payload shorter than 126 bytes.
    static func frame(opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x80 | opcode, UInt8(payload.count)] + payload
    }

    /// Accepts one connection, reads its request head, answers with the 101 and `frames` in one
    /// send, then keeps the connection until the client closes it (or `limit` passes).
    func serveOnce(frames: [UInt8], limit: Duration = .seconds(120)) async throws {
        let listener = self.listener
        try await RawHTTP.onThread {
            // accept() honours the listener's receive timeout: no client, no hang.
            var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
            setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { throw RawHTTP.Failure(description: "accept: errno \(errno)") }
            defer { close(fd) }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw RawHTTP.Failure(description: "the client left before its request head ended") }
                request += buffer[0..<count]
            }
            let key =
                String(decoding: request, as: UTF8.self).split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            let head =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(ExecConnection.acceptValue(forKey: key))\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"
            let reply = Array(head.utf8) + frames
            guard reply.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == reply.count else {
                throw RawHTTP.Failure(description: "send: errno \(errno)")
            }
            while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
        }
    }
}
