import AsyncHTTPClient
import Foundation
import KubeModels
import NIOCore
import NIOHTTP1

/// One change seen by a watch. `relisted` replaces everything known before: it follows a fresh
/// list, made at the start and whenever the server said our resourceVersion was too old (410).
public enum KubeWatchEvent: Sendable, Equatable {
    case added(JSONValue)
    case modified(JSONValue)
    case deleted(JSONValue)
    case relisted([JSONValue])
    /// The watch has seen everything up to this resourceVersion (after a list, or a bookmark):
    /// what a cache needs to know it is at least as new as a read made earlier.
    case progress(resourceVersion: String)
}

extension KubeClient {
    /// Watches objects, resuming from the last resourceVersion seen when the connection ends and
    /// relisting when the server answers 410 Gone. Ends only when cancelled or on a hard error.
    /// - Parameter resourceVersion: start after this version; nil = list first (a `relisted` event).
    public func watch(
        _ resource: GroupVersionResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        resourceVersion: String? = nil, serverTimeoutSeconds: Int = 300
    ) -> AsyncThrowingStream<KubeWatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: KubeWatchEvent.self)
        // The producer lives exactly as long as the consumer's iteration: cancelled on termination.
        let producer = Task {
            do {
                try await self.runWatch(
                    resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                    resourceVersion: resourceVersion, serverTimeoutSeconds: serverTimeoutSeconds
                ) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return stream
    }

    private func runWatch(
        _ resource: GroupVersionResource, namespace: String?, labelSelector: String?, fieldSelector: String?,
        resourceVersion start: String?, serverTimeoutSeconds: Int, emit: @Sendable (KubeWatchEvent) -> Void
    ) async throws {
        let subject = Self.describe("watch", resource, namespace, nil)
        var resourceVersion = start
        var failures = 0
        while !Task.isCancelled {
            if resourceVersion == nil {
                let list = try await self.list(resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
                emit(.relisted(list.items))
                resourceVersion = list.resourceVersion
                if !list.resourceVersion.isEmpty { emit(.progress(resourceVersion: list.resourceVersion)) }
            }
            var query: [(String, String)] = [("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(serverTimeoutSeconds))]
            if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
            do {
                let request = try await makeRequest(
                    .GET, path: resource.path(namespace: namespace), query: query, body: nil, contentType: "", accept: "application/json")
                let response = try await http.execute(request, timeout: .seconds(30))
                let status = Int(response.status.code)
                if status == 410 {
                    resourceVersion = nil
                    continue
                }
                guard status == 200 else {
                    let body = try await response.body.collect(upTo: 1 << 20)
                    let error = KubeClientError.from(status: status, body: Data(body.readableBytesView), subject: subject)
                    if RetryPolicy.isRetryable(status: status), failures + 1 < retry.maxAttempts {
                        failures += 1
                        try await Task.sleep(for: retry.delay(afterAttempt: failures))
                        continue
                    }
                    throw error
                }
                failures = 0
                var pending = Data()
                reading: for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = pending[pending.startIndex..<newline]
                        pending.removeSubrange(pending.startIndex...newline)
                        guard !line.isEmpty else { continue }
                        switch try handleWatchLine(Data(line), subject: subject) {
                        case .event(let event, let version):
                            if let version { resourceVersion = version }
                            emit(event)
                        case .bookmark(let version):
                            resourceVersion = version
                            emit(.progress(resourceVersion: version))
                        case .expired:
                            resourceVersion = nil
                            break reading
                        }
                    }
                }
            } catch let error as KubeClientError {
                throw error
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                guard failures < retry.maxAttempts else {
                    throw KubeClientError(.transport, subject: subject, detail: "the watch connection keeps failing: \(Self.describe(error))", cause: error)
                }
                try await Task.sleep(for: retry.delay(afterAttempt: failures))
            }
        }
    }

    private enum WatchLine {
        case event(KubeWatchEvent, String?)
        case bookmark(String)
        case expired
    }

    private func handleWatchLine(_ line: Data, subject: String) throws(KubeClientError) -> WatchLine {
        guard let value = try? JSONValue(parsing: line), let type = value["type"]?.stringValue, let object = value["object"] else {
            throw KubeClientError(.decoding, subject: subject, detail: "unreadable watch event: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        let version = object[path: ["metadata", "resourceVersion"]]?.stringValue
        switch type {
        case "ADDED": return .event(.added(object), version)
        case "MODIFIED": return .event(.modified(object), version)
        case "DELETED": return .event(.deleted(object), version)
        case "BOOKMARK": return .bookmark(version ?? "")
        case "ERROR":
            let code = object["code"]?.intValue ?? 0
            if code == 410 { return .expired }
            throw KubeClientError.from(status: code == 0 ? 500 : code, body: object.encoded(), subject: subject)
        default:
            throw KubeClientError(.decoding, subject: subject, detail: "unknown watch event type \(type)")
        }
    }

    /// Waits until `predicate` holds for one object (nil = the object does not exist), watching it
    /// rather than polling.
    /// - Throws: `.timeout` naming what was last seen when `timeout` passes first.
    @discardableResult
    public func waitFor(
        _ resource: GroupVersionResource, namespace: String? = nil, name: String, timeout: Duration, until condition: String,
        _ predicate: @escaping @Sendable (JSONValue?) -> Bool
    ) async throws(KubeClientError) -> JSONValue? {
        let subject = Self.describe("wait for", resource, namespace, name) + " to be \(condition)"
        let events = watch(resource, namespace: namespace, fieldSelector: "metadata.name=\(name)")
        return try await Self.waitUntil(subject: subject, condition: condition, timeout: timeout) { lastSeen in
            var current: JSONValue?
            for try await event in events {
                switch event {
                case .relisted(let items): current = items.first
                case .added(let object), .modified(let object): current = object
                case .deleted: current = nil
                case .progress: continue
                }
                await lastSeen.set(current)
                if predicate(current) { return .some(current) }
            }
            return nil
        }
    }

    /// Runs `observe` (which returns `.some(object)` once the condition holds, nil if its source
    /// ended) against `timeout`; a timeout names what was last seen.
    static func waitUntil(
        subject: String, condition: String, timeout: Duration, lastSeen: LastSeen = LastSeen(),
        _ observe: @escaping @Sendable (LastSeen) async throws -> JSONValue??
    ) async throws(KubeClientError) -> JSONValue? {
        do {
            return try await withThrowingTaskGroup(of: JSONValue??.self) { group in
                group.addTask { try await observe(lastSeen) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let result = first else {
                    throw KubeClientError(
                        .timeout, subject: subject,
                        detail: "still not \(condition) after \(timeout); last seen: \(await lastSeen.summary)")
                }
                return result
            }
        } catch let error as KubeClientError {
            throw error
        } catch {
            throw KubeClientError(.transport, subject: subject, detail: "\(error)", cause: error)
        }
    }
}

/// The last state a wait saw, for its timeout message.
actor LastSeen {
    private var object: JSONValue??

    func set(_ value: JSONValue?) { object = .some(value) }

    var summary: String {
        switch object {
        case .none: return "nothing yet (no answer from the watch)"
        case .some(.none): return "the object does not exist"
        case .some(.some(let value)):
            let version = value[path: ["metadata", "resourceVersion"]]?.stringValue ?? "?"
            let status = value["status"].map { String($0.jsonText.prefix(400)) } ?? "no status"
            return "resourceVersion \(version), status \(status)"
        }
    }
}
