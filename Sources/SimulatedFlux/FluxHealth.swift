import KubeModels

/// How Flux judges an object's health after applying it (kstatus, with Flux's own Job reader):
/// Current (healthy), InProgress (wait on), Failed (stalled: the wait ends at once).
enum FluxHealth: Equatable, Sendable {
    case current
    case inProgress(String)
    case failed(String)

    /// `object` as read back (nil: not found).
    static func of(_ object: JSONValue?, kind: String) -> FluxHealth {
        guard let object else {
            // kustomize-controller 1.8+: a Job deleted by its TTL counts as done.
            return kind == "Job" ? .current : .inProgress("NotFound")
        }
        let status = object["status"] ?? [:]
        let generation = object[path: ["metadata", "generation"]]?.intValue
        if let generation, let observed = status["observedGeneration"]?.intValue, observed < generation {
            return .inProgress("observedGeneration \(observed) is behind generation \(generation)")
        }
        switch kind {
        case "Job": return job(object)
        case "Deployment", "ReplicaSet", "StatefulSet":
            if condition(status, "Progressing")?["reason"]?.stringValue == "ProgressDeadlineExceeded" { return .failed("ProgressDeadlineExceeded") }
            let wanted = object[path: ["spec", "replicas"]]?.intValue ?? 1
            let updated = status["updatedReplicas"]?.intValue ?? (kind == "Deployment" ? 0 : wanted)
            let ready = status["readyReplicas"]?.intValue ?? 0
            let available = status["availableReplicas"]?.intValue ?? (kind == "StatefulSet" ? ready : 0)
            return updated >= wanted && ready >= wanted && available >= wanted ? .current : .inProgress("Ready: \(ready)/\(wanted)")
        case "PersistentVolumeClaim":
            return status["phase"]?.stringValue == "Bound" ? .current : .inProgress("PVC is not Bound")
        case "Pod":
            switch status["phase"]?.stringValue {
            case "Succeeded": return .current
            case "Failed": return .failed("Pod has failed")
            case "Running": return condition(status, "Ready")?["status"] == "True" ? .current : .inProgress("Pod is not Ready")
            default: return .inProgress("Pod is pending")
            }
        default:
            if condition(status, "Stalled")?["status"] == "True" { return .failed(condition(status, "Stalled")?["message"]?.stringValue ?? "Stalled") }
            guard let ready = condition(status, "Ready") else { return .current }
            return ready["status"] == "True" ? .current : .inProgress(ready["message"]?.stringValue ?? "not Ready")
        }
    }

    /// Flux's Job reader (fluxcd/pkg runtime/statusreaders): Complete passes, Failed fails, a
    /// suspended Job passes, anything else is in progress. Upstream kstatus would call a running
    /// Job Current, which would open a gate too early.
    static func job(_ object: JSONValue) -> FluxHealth {
        let status = object["status"] ?? [:]
        if object[path: ["spec", "suspend"]]?.boolValue == true { return .current }
        if condition(status, "Complete")?["status"] == "True" { return .current }
        if condition(status, "Failed")?["status"] == "True" { return .failed("Job failed") }
        if status["startTime"] == nil { return .inProgress("Job not started") }
        return .inProgress("Job in progress")
    }

    static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    /// kstatus's words for the wait messages.
    var word: String {
        switch self {
        case .current: "Current"
        case .inProgress: "InProgress"
        case .failed: "Failed"
        }
    }
}
