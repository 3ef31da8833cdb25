import KubeClient
import KubeModels

/// A Kubernetes workload Longhorn needs before it can serve a restore, and how to tell it has
/// rolled out. `longhorn-driver-deployer` being Available proves none of this: it creates the
/// CSI workloads later (longhorn-facts.md section 12, defect 14).
public struct Workload: Sendable, Hashable, CustomStringConvertible {
    public var resource: GroupVersionResource
    public var name: String

    public init(resource: GroupVersionResource, name: String) {
        self.resource = resource
        self.name = name
    }

    public var description: String { "\(resource == .daemonSets ? "ds" : "deploy")/\(name)" }

    static let managerName = "longhorn-manager"

    /// The manager (webhooks and controllers on every node), the CSI node plugin, and the CSI
    /// sidecar deployments (names: LM `types/deploy.go`).
    public static let requiredForRestore: [Workload] = [
        Workload(resource: .daemonSets, name: managerName),
        Workload(resource: .daemonSets, name: "longhorn-csi-plugin"),
        Workload(resource: .deployments, name: "csi-attacher"),
        Workload(resource: .deployments, name: "csi-provisioner"),
        Workload(resource: .deployments, name: "csi-resizer"),
        Workload(resource: .deployments, name: "csi-snapshotter"),
    ]

    /// Whether one sighting of the workload counts as rolled out, and if not, why.
    public enum Rollout: Sendable, Hashable {
        case rolledOut
        case progressing(String)
    }

    /// Judges a DaemonSet or Deployment the way `kubectl rollout status` does: the controller has
    /// seen the latest spec, and every desired pod is updated, ready and available. A missing
    /// object is progressing (the driver deployer creates the CSI workloads late).
    public func rollout(of object: JSONValue?) -> Rollout {
        guard let object else { return .progressing("does not exist yet") }
        let generation = object[path: ["metadata", "generation"]]?.intValue ?? 0
        let observed = object[path: ["status", "observedGeneration"]]?.intValue ?? 0
        if observed < generation { return .progressing("controller has not observed generation \(generation) yet (at \(observed))") }
        func count(_ key: String) -> Int { object[path: ["status", key]]?.intValue ?? 0 }
        if resource == .daemonSets {
            let desired = count("desiredNumberScheduled")
            // No scheduled pod means no node runs it: nothing can serve Longhorn yet.
            if desired == 0 { return .progressing("no pods scheduled yet (desiredNumberScheduled 0)") }
            let updated = count("updatedNumberScheduled")
            let ready = count("numberReady")
            let available = count("numberAvailable")
            if updated < desired || ready < desired || available < desired {
                return .progressing("\(ready)/\(desired) ready, \(updated) updated, \(available) available")
            }
            return .rolledOut
        }
        let desired = object[path: ["spec", "replicas"]]?.intValue ?? 1
        let updated = count("updatedReplicas")
        let ready = count("readyReplicas")
        let available = count("availableReplicas")
        let total = count("replicas")
        if updated < desired || ready < desired || available < desired || total > updated {
            return .progressing("\(ready)/\(desired) ready, \(updated) updated, \(available) available, \(total) total")
        }
        return .rolledOut
    }
}
