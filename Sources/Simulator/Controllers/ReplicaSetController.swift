import Foundation
import KubeModels

/// ReplicaSet → Pods: keeps `spec.replicas` live pods from the template (creating or deleting the
/// difference) and reports replicas/readyReplicas/availableReplicas/observedGeneration.
struct ReplicaSetController: Controller {
    let store: ClusterStore
    let interval: Duration

    func run() async {
        while !Task.isCancelled {
            await store.run { store in Self.sync(store) }
            try? await Task.sleep(for: interval)
        }
    }

    static func sync(_ store: isolated ClusterStore) {
        guard let setType = store.type(group: "apps", resource: "replicasets"), let podType = store.type(group: "", resource: "pods") else { return }
        for set in (try? store.list(setType, namespace: nil).items) ?? [] where set[path: ["metadata", "deletionTimestamp"]] == nil {
            guard let name = set[path: ["metadata", "name"]]?.stringValue, let namespace = set[path: ["metadata", "namespace"]]?.stringValue else { continue }
            let pods = ((try? store.list(podType, namespace: namespace).items) ?? []).filter {
                Workload.isOwned($0, by: set) && !Workload.isTerminal($0) && $0[path: ["metadata", "deletionTimestamp"]] == nil
            }
            let wanted = set[path: ["spec", "replicas"]]?.intValue ?? 1
            if pods.count < wanted, let template = set[path: ["spec", "template"]] {
                for _ in pods.count..<wanted {
                    _ = try? store.create(podType, namespace: namespace, object: Workload.pod(from: template, owner: set, namePrefix: "\(name)-", labels: [:]))
                }
            } else if pods.count > wanted {
                // Not-ready pods go first, then the newest, as the real controller prefers.
                let doomed = pods.sorted { a, b in
                    if Workload.isReady(a) != Workload.isReady(b) { return !Workload.isReady(a) }
                    return (a[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "") > (b[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "")
                }.prefix(pods.count - wanted)
                for pod in doomed {
                    if let podName = pod[path: ["metadata", "name"]]?.stringValue { _ = try? store.delete(podType, namespace: namespace, name: podName) }
                }
            }
            let live = wanted
            let ready = pods.filter(Workload.isReady).count
            Workload.writeStatus(store, setType, set) { status in
                status["replicas"] = .number(Double(live))
                status["fullyLabeledReplicas"] = .number(Double(live))
                status["readyReplicas"] = ready == 0 ? nil : .number(Double(min(ready, wanted)))
                status["availableReplicas"] = ready == 0 ? nil : .number(Double(min(ready, wanted)))
                status["observedGeneration"] = set[path: ["metadata", "generation"]] ?? 1
            }
        }
    }
}
