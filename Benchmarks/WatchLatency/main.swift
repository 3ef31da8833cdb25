import Foundation
import KubeClient
import KubeModels
import Simulator

/// Measures, in one run and against the same simulated API server over HTTPS, how long it takes
/// to notice a change: through a watch (what longhorn-dr does) versus a 2-second poll loop (what
/// the original plan's `kubectl get` loops do). Prints both and their ratio.
@main
struct WatchLatency {
    static let iterations = Int(ProcessInfo.processInfo.environment["BENCH_ITERATIONS"] ?? "") ?? 10
    static let pollInterval: Duration = .seconds(2)

    static func main() async throws {
        let cluster = await SimulatedCluster()
        try await RunningSimulator.with(cluster) { running in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("kubeconfig").path
            try Data(running.endpoint.kubeconfig().utf8).write(to: URL(fileURLWithPath: path))
            let resolved = try KubeconfigLoader().load(.init(kubeconfigPath: path))
            try await KubeClient.withClient(resolved) { client in
                try await client.create(.configMaps, namespace: "default", object: ["metadata": ["name": "bench"], "data": ["n": "0"]])
                var watchTimes: [Duration] = []
                var pollTimes: [Duration] = []
                for round in 1...iterations {
                    watchTimes.append(try await viaWatch(client, value: "w\(round)"))
                    pollTimes.append(try await viaPoll(client, value: "p\(round)"))
                }
                report(watch: watchTimes, poll: pollTimes)
            }
        }
    }

    static func change(_ client: KubeClient, _ value: String) async throws {
        try await client.patch(.configMaps, namespace: "default", name: "bench", type: .merge, patch: ["data": ["n": .string(value)]])
    }

    static func viaWatch(_ client: KubeClient, value: String) async throws -> Duration {
        let current = try await client.get(.configMaps, namespace: "default", name: "bench")
        let version = current[path: ["metadata", "resourceVersion"]]?.stringValue
        let events = client.watch(.configMaps, namespace: "default", fieldSelector: "metadata.name=bench", resourceVersion: version)
        let clock = ContinuousClock()
        let start = clock.now
        try await change(client, value)
        for try await event in events {
            if case .modified(let object) = event, object[path: ["data", "n"]]?.stringValue == value { break }
        }
        return clock.now - start
    }

    /// The plan's loop: look, sleep 2 s, look again. The change lands at a random point in the cycle.
    static func viaPoll(_ client: KubeClient, value: String) async throws -> Duration {
        let clock = ContinuousClock()
        let offset = Duration.milliseconds(Int.random(in: 0..<2000))
        async let changed: Void = {
            try await Task.sleep(for: offset)
            try await change(client, value)
        }()
        let pollStart = clock.now
        while true {
            let object = try await client.get(.configMaps, namespace: "default", name: "bench")
            if object[path: ["data", "n"]]?.stringValue == value { break }
            try await Task.sleep(for: pollInterval)
        }
        try await changed
        return clock.now - pollStart - offset
    }

    static func report(watch: [Duration], poll: [Duration]) {
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        func median(_ values: [Duration]) -> Double {
            let sorted = values.map(ms).sorted()
            return sorted[sorted.count / 2]
        }
        func p90(_ values: [Duration]) -> Double {
            let sorted = values.map(ms).sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.9))]
        }
        let watchMedian = median(watch)
        let pollMedian = median(poll)
        print("change-to-notice latency over \(watch.count) rounds (simulated API server, HTTPS on loopback)")
        print(String(format: "  watch (longhorn-dr):       median %8.1f ms   p90 %8.1f ms", watchMedian, p90(watch)))
        print(String(format: "  2 s poll (original plan):  median %8.1f ms   p90 %8.1f ms", pollMedian, p90(poll)))
        print(String(format: "  ratio poll/watch (median): %.0fx", pollMedian / max(watchMedian, 0.001)))
    }
}
