import Foundation
import KubeClient
import KubeModels
import Simulator

/// Starts a simulated cluster served over real HTTPS on loopback, runs `body`, and stops it; and
/// reaches it with the real client through the kubeconfig it renders. Every test target that
/// needs a simulated cluster uses this.
public enum SimulatorHarness {
    public static func withServer<T: Sendable>(
        tls: Bool = true, http2: Bool = false, historyLimit: Int = 10_000,
        _ body: @Sendable (SimulatorServer.Endpoint, SimulatedCluster) async throws -> T
    ) async throws -> T {
        _ = StallWatch.started
        let cluster = await SimulatedCluster(historyLimit: historyLimit)
        var options = SimulatorServer.Options()
        options.tls = tls
        options.http2 = http2
        return try await RunningSimulator.with(cluster, options: options) { running in
            try await body(running.endpoint, cluster)
        }
    }

    /// A client for `endpoint`, loaded through the real kubeconfig loader from the kubeconfig
    /// the server renders, as users load theirs.
    public static func client(_ endpoint: SimulatorServer.Endpoint, user: String = "admin", retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(20)))
        throws -> KubeClient
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("config").path
        try Data(endpoint.kubeconfig(user: user).utf8).write(to: URL(fileURLWithPath: path))
        let cluster = try KubeconfigLoader().load(KubeconfigLoader.Options(kubeconfigPath: path))
        return try KubeClient(cluster: cluster, retry: retry)
    }

    public static func withClient<T: Sendable>(
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
