import Foundation
import Synchronization

/// A container's output as `kubectl logs` shows it: everything written so far, and live followers
/// that see new output until the container ends. Written from pipe-reading threads, hence a Mutex
/// rather than an actor (no task hop per chunk, so the order of chunks is kept).
public final class ContainerLog: Sendable {
    private struct State {
        var data = Data()
        var finished = false
        var followers: [UUID: AsyncStream<Data>.Continuation] = [:]
    }

    /// Output beyond this is dropped from the front, like a rotated log file.
    let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 4 << 20) {
        self.capacity = capacity
    }

    func append(_ chunk: Data) {
        guard !chunk.isEmpty else { return }
        state.withLock { state in
            state.data.append(chunk)
            if state.data.count > capacity { state.data.removeFirst(state.data.count - capacity) }
            for follower in state.followers.values { follower.yield(chunk) }
        }
    }

    /// The container ended: followers get end-of-stream.
    func finish() {
        // Finishing a stream runs its onTermination, which takes the lock: do it outside.
        let followers = state.withLock { state in
            state.finished = true
            defer { state.followers.removeAll() }
            return Array(state.followers.values)
        }
        for follower in followers { follower.finish() }
    }

    public var contents: Data { state.withLock { $0.data } }

    /// What `GET .../log` returns: the last `tailLines` lines, at most `limitBytes` bytes.
    public func read(tailLines: Int? = nil, limitBytes: Int? = nil) -> Data {
        Self.select(contents, tailLines: tailLines, limitBytes: limitBytes)
    }

    /// The selected existing output, then new output as it is written, ending with the container.
    public func follow(tailLines: Int? = nil) -> AsyncStream<Data> {
        let (stream, continuation) = AsyncStream.makeStream(of: Data.self, bufferingPolicy: .unbounded)
        let id = UUID()
        let finished = state.withLock { state in
            let initial = Self.select(state.data, tailLines: tailLines, limitBytes: nil)
            if !initial.isEmpty { continuation.yield(initial) }
            if !state.finished { state.followers[id] = continuation }
            return state.finished
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.followers.removeValue(forKey: id) }
        }
        if finished { continuation.finish() }
        return stream
    }

    static func select(_ data: Data, tailLines: Int?, limitBytes: Int?) -> Data {
        var selected = data
        if let tailLines, tailLines >= 0 {
            let bytes = [UInt8](data)
            var end = bytes.count
            // A trailing newline ends the last line rather than starting an empty one.
            if end > 0, bytes[end - 1] == 0x0A { end -= 1 }
            var start = end
            var lines = 0
            while start > 0 {
                if bytes[start - 1] == 0x0A {
                    lines += 1
                    if lines == tailLines { break }
                }
                start -= 1
            }
            if tailLines == 0 { start = bytes.count }
            selected = Data(bytes[start...])
        }
        if let limitBytes, limitBytes >= 0, selected.count > limitBytes { selected = selected.prefix(limitBytes) }
        return selected
    }
}
