import Foundation
import KubeModels
import Testing

@testable import Simulator

struct WaitTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Shortcuts for driving a simulated cluster through its store.
struct SimTestCluster: Sendable {
    let cluster: SimulatedCluster
    var store: ClusterStore { cluster.store }

    func type(_ group: String, _ resource: String) async throws -> ResourceType {
        try #require(await store.type(group: group, resource: resource))
    }

    /// Runs `body` with the controllers (kubelet, GC, ...) going.
    static func run<T: Sendable>(_ body: @Sendable (SimTestCluster) async throws -> T) async throws -> T {
        let cluster = await SimulatedCluster()
        return try await cluster.withControllers { try await body(SimTestCluster(cluster: cluster)) }
    }

    /// Waits, by watching, until `predicate` holds for the object (nil = absent). The default
    /// bound is for liveness, not speed: when `swift test` starts every suite at once on two
    /// cores, controllers have been seen starved for more than 30 s.
    @discardableResult
    func waitFor(
        _ group: String, _ resource: String, namespace: String? = "default", name: String, timeout: Duration = .seconds(90),
        _ what: String, _ predicate: @escaping @Sendable (JSONValue?) -> Bool
    ) async throws -> JSONValue? {
        let type = try await type(group, resource)
        let stream = try await store.watch(
            type, namespace: namespace, fromRevision: nil,
            filter: { $0[path: ["metadata", "name"]]?.stringValue == name })
        let store = self.store
        return try await withThrowingTaskGroup(of: JSONValue??.self) { group in
            group.addTask {
                var current = await store.find(type, namespace: namespace, name: name)
                if predicate(current) { return .some(current) }
                for await event in stream {
                    current = event.type == .deleted ? JSONValue?.none : .some(event.object)
                    if predicate(current) { return .some(current) }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let result = first else {
                let last = await store.find(type, namespace: namespace, name: name)
                throw WaitTimeout(
                    description:
                        "\(resource) \(name) not \(what) after \(timeout); last seen status: \(last.map { ($0["status"] ?? .null).jsonText.prefix(3000) } ?? "absent")"
                )
            }
            return result
        }
    }
}

func podObject(
    _ name: String, command: [String] = ["sleep", "infinity"], restartPolicy: String = "Always",
    volumes: [JSONValue] = [], mounts: [JSONValue] = []
) -> JSONValue {
    var container: JSONValue = ["name": "main", "image": "busybox:1.36", "command": .array(command.map { .string($0) })]
    if !mounts.isEmpty { container["volumeMounts"] = .array(mounts) }
    var pod: JSONValue = [
        "metadata": ["name": .string(name), "namespace": "default"],
        "spec": ["containers": [container], "restartPolicy": .string(restartPolicy)],
    ]
    if !volumes.isEmpty { pod[path: ["spec", "volumes"]] = .array(volumes) }
    return pod
}

func phase(_ value: String) -> @Sendable (JSONValue?) -> Bool {
    { $0?[path: ["status", "phase"]]?.stringValue == value }
}

func condition(_ object: JSONValue?, _ type: String) -> JSONValue? {
    object?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
}

/// A unique mount path per test, so parallel tests never share a host directory name.
func uniqueMountPath() -> String {
    "/lhdr-test-\(UUID().uuidString.prefix(8).lowercased())"
}

/// True when the object does not exist. (`$0 == nil` would compare with JSON null: JSONValue is
/// expressible by the nil literal.)
let absent: @Sendable (JSONValue?) -> Bool = { $0.map { _ in false } ?? true }
