import Foundation
import KubeModels

/// Job → Pods: runs pods from the template one at a time (parallelism above 1 is treated as 1) until
/// `completions` succeeded, or more than `backoffLimit` failed; reports active/succeeded/failed,
/// startTime/completionTime and the conditions kubectl waits on (SuccessCriteriaMet then Complete;
/// FailureTarget then Failed); deletes finished Jobs after `ttlSecondsAfterFinished`.
struct JobController: Controller {
    let store: ClusterStore
    let interval: Duration

    func run() async {
        while !Task.isCancelled {
            await store.run { store in Self.sync(store) }
            try? await Task.sleep(for: interval)
        }
    }

    static func sync(_ store: isolated ClusterStore) {
        guard let jobType = store.type(group: "batch", resource: "jobs"), let podType = store.type(group: "", resource: "pods") else { return }
        for job in (try? store.list(jobType, namespace: nil).items) ?? [] where job[path: ["metadata", "deletionTimestamp"]] == nil {
            sync(job, store: store, jobType: jobType, podType: podType)
        }
    }

    static func finished(_ job: JSONValue) -> Date? {
        for condition in job[path: ["status", "conditions"]]?.arrayValue ?? []
        where ["Complete", "Failed"].contains(condition["type"]?.stringValue ?? "") && condition["status"] == "True" {
            return condition["lastTransitionTime"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
        }
        return nil
    }

    static func sync(_ job: JSONValue, store: isolated ClusterStore, jobType: ResourceType, podType: ResourceType) {
        guard let name = job[path: ["metadata", "name"]]?.stringValue, let namespace = job[path: ["metadata", "namespace"]]?.stringValue,
            let uid = job[path: ["metadata", "uid"]]?.stringValue
        else { return }
        let now = store.now()
        let stamp = ClusterStore.timestamp(now)
        if let finishedAt = finished(job) {
            if let ttl = job[path: ["spec", "ttlSecondsAfterFinished"]]?.intValue, finishedAt.addingTimeInterval(TimeInterval(ttl)) <= now {
                _ = try? store.delete(jobType, namespace: namespace, name: name, options: ClusterStore.DeleteOptions(propagation: .background))
            }
            return
        }
        if job[path: ["spec", "suspend"]] == true { return }
        let pods = ((try? store.list(podType, namespace: namespace).items) ?? []).filter { Workload.isOwned($0, by: job) }
        let succeeded = pods.filter { $0[path: ["status", "phase"]] == "Succeeded" }.count
        let failed = pods.filter { $0[path: ["status", "phase"]] == "Failed" }.count
        let active = pods.filter { !Workload.isTerminal($0) && $0[path: ["metadata", "deletionTimestamp"]] == nil }
        let completions = job[path: ["spec", "completions"]]?.intValue ?? 1
        let backoffLimit = job[path: ["spec", "backoffLimit"]]?.intValue ?? 6
        var outcome: (type: String, target: String, reason: String, message: String)?
        if succeeded >= completions {
            outcome = ("Complete", "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods")
        } else if failed > backoffLimit {
            outcome = ("Failed", "FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            for pod in active {
                if let podName = pod[path: ["metadata", "name"]]?.stringValue { _ = try? store.delete(podType, namespace: namespace, name: podName) }
            }
        } else if active.isEmpty, let template = job[path: ["spec", "template"]] {
            let labels = ["batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name, "controller-uid": uid, "job-name": name]
            _ = try? store.create(podType, namespace: namespace, object: Workload.pod(from: template, owner: job, namePrefix: "\(name)-", labels: labels))
        }
        let running = outcome == nil ? max(active.count, 1) : 0
        Workload.writeStatus(store, jobType, job) { status in
            if status["startTime"] == nil { status["startTime"] = .string(stamp) }
            status["active"] = running == 0 ? nil : .number(Double(running))
            status["ready"] = .number(Double(active.filter(Workload.isReady).count))
            status["terminating"] = 0
            status["succeeded"] = succeeded == 0 ? nil : .number(Double(succeeded))
            status["failed"] = failed == 0 ? nil : .number(Double(failed))
            status["uncountedTerminatedPods"] = [:]
            if let outcome {
                // Kubernetes 1.31+ sets the target condition first, then the terminal one.
                Workload.setCondition(&status, type: outcome.target, status: "True", reason: outcome.reason, message: outcome.message, now: stamp)
                Workload.setCondition(&status, type: outcome.type, status: "True", reason: outcome.reason, message: outcome.message, now: stamp)
                if outcome.type == "Complete" { status["completionTime"] = .string(stamp) }
                status["active"] = nil
                status["ready"] = 0
            }
        }
    }
}
