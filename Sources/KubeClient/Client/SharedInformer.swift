import Foundation
import KubeModels

/// One list-and-watch of a resource kind in a namespace, kept as a local cache and shared by
/// every waiter: the informer pattern of Kubernetes controllers. However many volumes wait at
/// once, the client holds one watch connection per kind, so the connection pool cannot run dry.
///
/// The watch resumes from the last resourceVersion and relists on 410 (`KubeClient.watch`).
/// It starts with the first subscriber and runs until the client shuts down (waits come in
/// waves at a given concurrency; restarting per wave would open a connection per wave); a hard
/// error (RBAC, a kind the server does not serve) ends every subscription with that error, and
/// the next subscriber starts afresh.
public actor SharedInformer {
    public nonisolated let resource: GroupVersionResource
    public nonisolated let namespace: String?
    private let client: KubeClient
    private var objects: [String: JSONValue] = [:]
    private var synced = false
    /// The newest resourceVersion the cache reflects, when versions are numbers (etcd's are).
    private var reached: UInt64?
    private var subscribers: [UInt64: AsyncThrowingStream<Void, any Error>.Continuation] = [:]
    private var nextID: UInt64 = 0
    private var task: Task<Void, Never>?
    private var generation: UInt64 = 0

    init(client: KubeClient, resource: GroupVersionResource, namespace: String?) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
    }

    /// Signals once the cache is synced and after every change to it (coalesced: a slow
    /// consumer sees one signal for several changes, and reads the cache as it is then).
    public func changes() -> AsyncThrowingStream<Void, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        nextID += 1
        let id = nextID
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        if synced { continuation.yield() }
        if task == nil { start() }
        return stream
    }

    /// The cached object, nil when it does not exist (meaningful once synced).
    public func object(named name: String) -> JSONValue? { objects[name] }

    /// Every cached object.
    public var items: [JSONValue] { Array(objects.values) }

    public var isSynced: Bool { synced }

    private func unsubscribe(_ id: UInt64) {
        subscribers[id] = nil
    }

    /// Ends the watch and every subscription (the client is shutting down).
    func shutdown() {
        let waiting = subscribers
        subscribers = [:]
        generation += 1
        stop()
        for continuation in waiting.values { continuation.finish() }
    }

    private func start() {
        generation += 1
        let generation = generation
        let events = client.watch(resource, namespace: namespace)
        task = Task { [weak self] in
            do {
                for try await event in events {
                    guard let self else { return }
                    await self.apply(event, generation: generation)
                }
            } catch {
                await self?.fail(error, generation: generation)
            }
        }
    }

    private func stop() {
        task?.cancel()
        task = nil
        synced = false
        reached = nil
        objects = [:]
    }

    private func apply(_ event: KubeWatchEvent, generation: UInt64) {
        guard generation == self.generation else { return }
        switch event {
        case .relisted(let items):
            objects = Dictionary(items.compactMap { item in Self.name(item).map { ($0, item) } }, uniquingKeysWith: { $1 })
            synced = true
        case .added(let object), .modified(let object):
            if let name = Self.name(object) { objects[name] = object }
        case .deleted(let object):
            if let name = Self.name(object) { objects[name] = nil }
        case .progress(let version):
            advance(to: version)
            return
        }
        switch event {
        case .added(let object), .modified(let object), .deleted(let object):
            advance(to: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "")
        default: break
        }
        guard synced else { return }
        for continuation in subscribers.values { continuation.yield() }
    }

    private func advance(to version: String) {
        guard let number = UInt64(version) else { return }
        reached = max(reached ?? 0, number)
    }

    /// Whether the cache reflects everything up to `version` (nil when versions are not numbers).
    public func hasReached(_ version: String) -> Bool? {
        guard let wanted = UInt64(version), let reached else { return UInt64(version) == nil ? nil : false }
        return reached >= wanted
    }

    private func fail(_ error: any Error, generation: UInt64) {
        guard generation == self.generation else { return }
        let waiting = subscribers
        subscribers = [:]
        stop()
        for continuation in waiting.values { continuation.finish(throwing: error) }
    }

    static func name(_ object: JSONValue) -> String? { object[path: ["metadata", "name"]]?.stringValue }
}

/// The client's informers, one per kind and namespace.
actor InformerRegistry {
    private var informers: [String: SharedInformer] = [:]

    func informer(client: KubeClient, resource: GroupVersionResource, namespace: String?) -> SharedInformer {
        let key = resource.path(namespace: namespace)
        if let existing = informers[key] { return existing }
        let informer = SharedInformer(client: client, resource: resource, namespace: namespace)
        informers[key] = informer
        return informer
    }

    /// Stops and drops them all (the client is shutting down).
    func removeAll() async {
        let all = informers.values
        informers = [:]
        for informer in all { await informer.shutdown() }
    }
}

extension KubeClient {
    /// The shared informer of `resource` in `namespace`: one watch however many wait on it.
    /// Needs list and watch on the whole kind in the namespace (not by name).
    public func informer(_ resource: GroupVersionResource, namespace: String? = nil) async -> SharedInformer {
        await informers.informer(client: self, resource: resource, namespace: namespace)
    }

    /// Like `waitFor(_:namespace:name:...)`, but through the kind's shared informer, so any
    /// number of concurrent waits share one watch connection.
    @discardableResult
    public func waitFor(
        _ informer: SharedInformer, name: String, timeout: Duration, until condition: String,
        _ predicate: @escaping @Sendable (JSONValue?) -> Bool
    ) async throws(KubeClientError) -> JSONValue? {
        let subject = Self.describe("wait for", informer.resource, informer.namespace, name) + " to be \(condition)"
        let lastSeen = LastSeen()
        // The cache may lag a write made just before this wait (create, then wait): read the
        // object once, and until the cache has shown it, an absence in the cache is that lag,
        // not a deletion.
        let read = try await list(informer.resource, namespace: informer.namespace, fieldSelector: "metadata.name=\(name)")
        let initial = read.items.first
        if predicate(initial) { return initial }
        await lastSeen.set(initial)
        return try await Self.waitUntil(subject: subject, condition: condition, timeout: timeout, lastSeen: lastSeen) { lastSeen in
            var cacheHasShownIt = false
            for try await _ in await informer.changes() {
                let cached = await informer.object(named: name)
                if cached != nil { cacheHasShownIt = true }
                // Once the cache is as new as the read, it is the truth (a deletion included);
                // before, the read stands in for what the cache has not caught up with.
                let caughtUp = await informer.hasReached(read.resourceVersion) ?? cacheHasShownIt
                var current = cached ?? (caughtUp || cacheHasShownIt ? nil : initial)
                if current == nil, predicate(nil) {
                    // An absence ends the wait (done, or "disappeared"): confirm it with one read
                    // rather than trust a cache that may be catching up (relist, reordering).
                    current = try await self.listNamed(informer.resource, namespace: informer.namespace, name: name)
                }
                await lastSeen.set(current)
                if predicate(current) { return .some(current) }
            }
            return nil
        }
    }
}
