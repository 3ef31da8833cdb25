import Foundation
import KubeModels

/// `longhorn-dr-bench json`: `JSONValue(parsing:)` (its own parser) against `JSONDecoder` with
/// `JSONValue`'s Codable conformance (what it used before), on the same documents, one thread:
/// a Kubernetes list of 200 objects and a large CRD-like schema. Prints MB/s of each and the ratio.
enum JSONBench {
    static func run() throws {
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web-0", "namespace": "apps", "labels": ["app": "web", "tier": "front"], "resourceVersion": "12345"],
            "spec": ["containers": [["name": "web", "image": "nginx:1.27", "ports": [["containerPort": 80]], "args": ["--a", "--b"]]]],
            "status": ["phase": "Running", "conditions": [["type": "Ready", "status": "True"]], "hostIP": "10.0.0.1"],
        ]
        let list: JSONValue = ["apiVersion": "v1", "kind": "PodList", "items": .array(Array(repeating: pod, count: 200))]
        func schema(_ depth: Int) -> JSONValue {
            depth == 0
                ? ["type": "string", "description": "a field"]
                : ["type": "object", "properties": .object(Dictionary(uniqueKeysWithValues: (0..<6).map { ("f\($0)", schema(depth - 1)) }))]
        }
        let documents = [("pod list", list.encoded()), ("CRD schema", (["openAPIV3Schema": schema(5)] as JSONValue).encoded())]
        print("json: one thread, best of 5")
        print("  document          bytes   own parser MB/s   JSONDecoder MB/s   ratio")
        for (name, data) in documents {
            let own = try best { _ = try JSONValue(parsing: data) }
            let decoder = try best { _ = try JSONDecoder().decode(JSONValue.self, from: data) }
            let megabytes = Double(data.count) / 1e6
            let columns = [
                name.padding(toLength: 14, withPad: " ", startingAt: 0), String(format: "%8d", data.count),
                String(format: "%15.1f", megabytes / own), String(format: "%16.1f", megabytes / decoder), String(format: "%5.1fx", decoder / own),
            ]
            print("  " + columns.joined(separator: "   "))
        }
    }

    /// The fastest of five runs of `body` repeated 20 times, in seconds per run.
    static func best(_ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            for _ in 0..<20 { try body() }
            let elapsed = ContinuousClock.now - start
            fastest = min(fastest, (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / 20)
        }
        return fastest
    }
}
