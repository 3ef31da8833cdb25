import Foundation
import KubeClient
import KubeModels
import Simulator
import Testing

/// Starts a simulated cluster served over real HTTPS on loopback, runs `body`, and stops it.
enum SimulatorHarness {
    static func withServer<T: Sendable>(
        tls: Bool = true, http2: Bool = false, historyLimit: Int = 10_000,
        _ body: @Sendable (SimulatorServer.Endpoint, SimulatedCluster) async throws -> T
    ) async throws -> T {
        let cluster = await SimulatedCluster(historyLimit: historyLimit)
        var options = SimulatorServer.Options()
        options.tls = tls
        options.http2 = http2
        let fixed = options
        let (ready, readyContinuation) = AsyncStream.makeStream(of: SimulatorServer.Endpoint.self)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await cluster.runControllers()
                return nil
            }
            group.addTask {
                try await SimulatorServer.run(cluster, options: fixed) { readyContinuation.yield($0) }
                return nil
            }
            var iterator = ready.makeAsyncIterator()
            guard let endpoint = await iterator.next() else { throw HarnessError(message: "the simulator never started") }
            defer { group.cancelAll() }
            return try await body(endpoint, cluster)
        }
    }

    /// A client for `endpoint`, loaded through the real kubeconfig loader from the kubeconfig
    /// the server renders, as users load theirs.
    static func client(_ endpoint: SimulatorServer.Endpoint, user: String = "admin", retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(20))) throws -> KubeClient {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("config").path
        try Data(endpoint.kubeconfig(user: user).utf8).write(to: URL(fileURLWithPath: path))
        let cluster = try KubeconfigLoader().load(KubeconfigLoader.Options(kubeconfigPath: path))
        return try KubeClient(cluster: cluster, retry: retry)
    }

    static func withClient<T: Sendable>(
        user: String = "admin", tls: Bool = true, http2: Bool = false, historyLimit: Int = 10_000,
        _ body: @Sendable (KubeClient, SimulatedCluster, SimulatorServer.Endpoint) async throws -> T
    ) async throws -> T {
        try await withServer(tls: tls, http2: http2, historyLimit: historyLimit) { endpoint, cluster in
            let client = try client(endpoint, user: user)
            do {
                let result = try await body(client, cluster, endpoint)
                try await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func configMap(_ name: String, namespace: String = "default", data: [String: String] = [:], labels: [String: String] = [:]) -> JSONValue {
    var object: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)],
        "data": .object(data.mapValues { .string($0) })]
    if !labels.isEmpty { object[path: ["metadata", "labels"]] = .object(labels.mapValues { .string($0) }) }
    return object
}

/// Runs `body` and returns the KubeClientError it throws (recording a failure if it does not).
func expectKubeError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> KubeClientError? {
    do {
        try await body()
        Issue.record("expected a KubeClientError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KubeClientError {
        return error
    } catch {
        Issue.record("expected a KubeClientError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
