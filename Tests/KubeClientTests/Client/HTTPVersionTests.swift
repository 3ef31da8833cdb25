import Foundation
import KubeClient
import KubeModels
import Simulator
import SimulatorTestSupport
import Testing

/// Many waits and requests at once, over the protocol the server offers: HTTP/2 multiplexes them
/// on one connection; HTTP/1.1 (a proxy that speaks nothing newer) stays within the pool's bound
/// and still serves every request while the watches hold their connections.
@Suite struct HTTPVersionTests {
    static let namespaces = ["a", "b", "c", "d"]

    /// Four informers (four open watches), 40 waits on them and 40 reads, all at once.
    static func busyRun(_ client: KubeClient, _ cluster: SimulatedCluster) async throws -> [RequestLog.Entry] {
        for namespace in namespaces {
            _ = try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        await cluster.log.clear()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for namespace in namespaces {
                let informer = await client.informer(.configMaps, namespace: namespace)
                for index in 0..<10 {
                    group.addTask {
                        _ = try await client.waitFor(informer, name: "c\(index)", timeout: .seconds(120), until: "ready") {
                            $0?[path: ["data", "ready"]] == "yes"
                        }
                    }
                    group.addTask {
                        _ = try await client.list(.configMaps, namespace: namespace)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            for namespace in namespaces {
                for index in 0..<10 {
                    _ = try await client.create(.configMaps, namespace: namespace, object: configMap("c\(index)", namespace: namespace, data: ["ready": "yes"]))
                }
            }
            try await group.waitForAll()
        }
        return await cluster.log.entries
    }

    @Test func http2CarriesEveryWatchAndRequestOnOneConnection() async throws {
        try await SimulatorHarness.withClient(http2: true) { client, cluster, _ in
            let entries = try await Self.busyRun(client, cluster)
            #expect(entries.count > 80)
            #expect(Set(entries.compactMap(\.httpVersion)) == ["2"], "the client uses h2 when the server offers it")
            let connections = Set(entries.compactMap(\.connection))
            #expect(connections.count == 1, "\(connections.count) connections")
        }
    }

    @Test func http1OnlyStaysWithinThePoolAndServesEveryRequest() async throws {
        try await SimulatorHarness.withClient(http2: false) { client, cluster, _ in
            let entries = try await Self.busyRun(client, cluster)
            #expect(entries.count > 80)
            #expect(Set(entries.compactMap(\.httpVersion)) == ["1.1"])
            let connections = Set(entries.compactMap(\.connection))
            #expect(connections.count <= KubeClient.http1ConnectionLimit, "\(connections.count) connections")
            #expect(connections.count > 4, "four watches each hold an HTTP/1.1 connection of their own")
        }
    }
}
