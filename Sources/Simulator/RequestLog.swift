import Foundation
import KubeModels

/// What the simulated server received, request by request, so tests can assert on the wire
/// (which content type kubectl sent, whether it asked for a Table, whether it fell back to SPDY).
public actor RequestLog {
    public struct Entry: Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var query: String
        public var accept: String?
        public var contentType: String?
        public var upgrade: String?
        public var user: String = RequestUser.admin.description
        public var connection: String?
        /// "1.1" or "2": which HTTP version carried the request.
        public var httpVersion: String?
        public var userAgent: String?
        public var status: Int?

        public var description: String {
            "\(method) \(path)\(query.isEmpty ? "" : "?\(query)") accept=\(accept ?? "-") content-type=\(contentType ?? "-") upgrade=\(upgrade ?? "-") -> \(status.map(String.init) ?? "?")"
        }
    }

    public private(set) var entries: [Entry] = []
    let limit: Int
    /// Where finished entries are also written, one JSON object per line, for scripts that check
    /// what the server received (the kubectl conformance run).
    private let sink: FileHandle?

    public init(limit: Int = 20_000, sinkPath: String? = nil) {
        self.limit = limit
        if let sinkPath, FileManager.default.createFile(atPath: sinkPath, contents: nil) {
            sink = FileHandle(forWritingAtPath: sinkPath)
        } else {
            sink = nil
        }
    }

    func append(_ entry: Entry) -> Int {
        entries.append(entry)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
        return entries.count - 1
    }

    func setStatus(_ index: Int, _ status: Int) {
        guard entries.indices.contains(index) else { return }
        entries[index].status = status
        if let sink {
            let entry = entries[index]
            var line = JSONValue.object([
                "method": .string(entry.method), "path": .string(entry.path), "query": .string(entry.query),
                "accept": entry.accept.map { .string($0) } ?? .null, "contentType": entry.contentType.map { .string($0) } ?? .null,
                "upgrade": entry.upgrade.map { .string($0) } ?? .null, "status": .number(Double(status)),
                "user": .string(entry.user), "connection": entry.connection.map { .string($0) } ?? .null,
                "httpVersion": entry.httpVersion.map { .string($0) } ?? .null,
                "userAgent": entry.userAgent.map { .string($0) } ?? .null,
            ]).encoded()
            line.append(0x0A)
            sink.write(line)
        }
    }

    public func clear() { entries.removeAll() }
}

/// Faults a test can switch on: failing requests, added latency.
public actor FaultInjector {
    public struct Rule: Sendable {
        /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, or nil for any.
        public var verb: String?
        /// Plural resource name, or nil for any.
        public var resource: String?
        public var status: Int
        public var remaining: Int
        public var retryAfterSeconds: Int?

        public init(verb: String? = nil, resource: String? = nil, status: Int, count: Int = 1, retryAfterSeconds: Int? = nil) {
            self.verb = verb
            self.resource = resource
            self.status = status
            self.remaining = count
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    private var rules: [Rule] = []
    public private(set) var latency: Duration = .zero

    public init() {}

    /// Fails the next `count` requests matching `verb`/`resource` with `status`.
    public func fail(verb: String? = nil, resource: String? = nil, status: Int, count: Int = 1, retryAfterSeconds: Int? = nil) {
        rules.append(Rule(verb: verb, resource: resource, status: status, count: count, retryAfterSeconds: retryAfterSeconds))
    }

    public func setLatency(_ latency: Duration) { self.latency = latency }

    public func reset() {
        rules.removeAll()
        latency = .zero
    }

    /// The rule that fires for this request, consuming one of its uses.
    func match(verb: String, resource: String) -> Rule? {
        guard
            let index = rules.firstIndex(where: { ($0.verb == nil || $0.verb == verb) && ($0.resource == nil || $0.resource == resource) && $0.remaining > 0 })
        else {
            return nil
        }
        rules[index].remaining -= 1
        let rule = rules[index]
        if rules[index].remaining == 0 { rules.remove(at: index) }
        return rule
    }
}
