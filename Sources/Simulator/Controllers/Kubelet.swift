import Foundation
import KubeModels

/// The kubelet and scheduler stand-in for the cluster's single simulated node, `sim-node-1`:
/// schedules Pending pods once every claim they mount is Bound, starts their containers through
/// ``ContainerRuntime``, reports status (conditions, containerStatuses, podIP, startTime), turns
/// finished containers into Succeeded/Failed, and completes graceful deletion.
///
/// Simplifications: one node; init containers are not run; a container that exits ends the pod
/// whatever its restartPolicy (no restarts, restartCount stays 0).
struct Kubelet: Controller {
    static let nodeName = "sim-node-1"
    let store: ClusterStore
    let runtime: ContainerRuntime
    let interval: Duration

    func run() async {
        await ControllerLoop(store: store, interval: interval, changes: runtime.changes).run {
            await sync()
        }
    }

    /// One level-triggered pass over every pod.
    func sync() async {
        guard let podType = await store.type(group: "", resource: "pods") else { return }
        let pods = (try? await store.list(podType, namespace: nil).items) ?? []
        var present = Set<String>()
        for pod in pods {
            guard let uid = pod[path: ["metadata", "uid"]]?.stringValue else { continue }
            present.insert(uid)
            await sync(pod, uid: uid, type: podType)
        }
        for uid in await runtime.knownPods where !present.contains(uid) {
            await runtime.remove(podUID: uid)
        }
    }

    private func sync(_ pod: JSONValue, uid: String, type: ResourceType) async {
        guard let name = pod[path: ["metadata", "name"]]?.stringValue, let namespace = pod[path: ["metadata", "namespace"]]?.stringValue else { return }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            // Containers are simulated, so they stop at once and the grace period ends early.
            await runtime.remove(podUID: uid)
            if (pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0) > 0 {
                var options = ClusterStore.DeleteOptions()
                options.gracePeriodSeconds = 0
                options.preconditionUID = uid
                _ = try? await store.delete(type, namespace: namespace, name: name, options: options)
            }
            return
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        if phase == "Succeeded" || phase == "Failed" {
            await runtime.stop(podUID: uid)
            return
        }
        if phase == "Pending", await runtime.containers(podUID: uid).isEmpty {
            if let unbound = await PodVolumes.unboundClaims(of: pod, store: store) {
                await writeStatus(type, namespace, name, uid) { status in
                    Self.setCondition(
                        &status, "PodScheduled", false, reason: "Unschedulable",
                        message: "0/1 nodes are available: \(unbound). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
                }
                return
            }
            if (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty {
                _ = try? await store.patch(type, namespace: namespace, name: name) { old throws(APIError) in
                    guard old[path: ["metadata", "uid"]]?.stringValue == uid else { throw .conflict(type, name) }
                    var updated = old
                    updated[path: ["spec", "nodeName"]] = .string(Self.nodeName)
                    return updated
                }
            }
            var mounts: [String: [VolumeMount]]
            var environment: [String: String] = [:]
            do {
                mounts = try await PodVolumes.mounts(of: pod, store: store, data: runtime.data)
                if let projection = try await PodVolumes.serviceAccount(of: pod, access: runtime.access, data: runtime.data) {
                    for container in mounts.keys { mounts[container, default: []].append(projection.mount) }
                    environment = projection.environment
                }
            } catch let error as PodVolumes.NotReady {
                await writeStatus(type, namespace, name, uid) { status in
                    Self.setCondition(&status, "PodScheduled", true)
                    Self.setCondition(&status, "ContainersReady", false, reason: "FailedMount", message: error.message)
                }
                return
            } catch {
                await writeStatus(type, namespace, name, uid) { status in
                    Self.setCondition(&status, "ContainersReady", false, reason: "FailedMount", message: "cannot project the service account token: \(error)")
                }
                return
            }
            let started = await runtime.start(pod: pod, mounts: mounts, environment: environment)
            let notes = started.values.compactMap { instance in instance.note.map { (instance.name, $0) } }.sorted { $0.0 < $1.0 }
            let refused = started.values.compactMap { instance -> (String, String)? in
                if case .failedToStart(let reason, let message) = instance.state, reason == "CreateContainerConfigError" { return (instance.name, message) }
                return nil
            }
            if !notes.isEmpty || !refused.isEmpty {
                _ = await store.run { store in
                    for (_, note) in notes {
                        EventRecorder.record(store, about: pod, type: "Normal", reason: "Started", message: note, component: "kubelet")
                    }
                    for (_, message) in refused {
                        EventRecorder.record(store, about: pod, reason: "Failed", message: "Error: \(message)", component: "kubelet")
                    }
                }
            }
        }
        let instances = await runtime.containers(podUID: uid)
        let now = store.now()
        await writeStatus(type, namespace, name, uid) { status in
            Self.report(&status, pod: pod, uid: uid, instances: instances, now: now)
        }
    }

    /// Fills in what the kubelet reports for started containers.
    static func report(_ status: inout JSONValue, pod: JSONValue, uid: String, instances: [String: ContainerInstance], now: Date) {
        let containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        var statuses: [JSONValue] = []
        var allReady = true
        var allTerminated = true
        var anyFailed = false
        var anyNotStarted = false
        var earliest: Date?
        for container in containers {
            guard let name = container["name"]?.stringValue else { continue }
            let instance = instances[name]
            let containerID = instance?.containerID ?? ""
            var entry: JSONValue = [
                "name": .string(name), "image": container["image"] ?? "", "imageID": .string(instance?.imageID ?? ""), "restartCount": 0,
            ]
            if !containerID.isEmpty { entry["containerID"] = .string(containerID) }
            switch instances[name]?.state {
            case .running(let started)?:
                earliest = min(earliest ?? started, started)
                entry["state"] = ["running": ["startedAt": .string(ClusterStore.timestamp(started))]]
                entry["ready"] = true
                entry["started"] = true
                allTerminated = false
            case .terminated(let code, let started, let finished)?:
                earliest = min(earliest ?? started, started)
                entry["state"] = [
                    "terminated": [
                        "exitCode": .number(Double(code)), "reason": code == 0 ? "Completed" : "Error",
                        "startedAt": .string(ClusterStore.timestamp(started)), "finishedAt": .string(ClusterStore.timestamp(finished)),
                        "containerID": .string(containerID),
                    ]
                ]
                entry["ready"] = false
                entry["started"] = false
                allReady = false
                if code != 0 { anyFailed = true }
            case .failedToStart(let reason, let message)?:
                entry["state"] = ["waiting": ["reason": .string(reason), "message": .string(message)]]
                entry["ready"] = false
                entry["started"] = false
                allReady = false
                allTerminated = false
                anyNotStarted = true
            case .creating?, nil:
                entry["state"] = ["waiting": ["reason": "ContainerCreating"]]
                entry["ready"] = false
                entry["started"] = false
                allReady = false
                allTerminated = false
                anyNotStarted = true
            }
            statuses.append(entry)
        }
        let phase = anyNotStarted ? "Pending" : allTerminated ? (anyFailed ? "Failed" : "Succeeded") : "Running"
        status["phase"] = .string(phase)
        status["hostIP"] = "127.0.0.1"
        status["hostIPs"] = [["ip": "127.0.0.1"]]
        let ip = "127.0.0.\(2 + Int(uid.utf8.reduce(UInt32(0)) { ($0 &* 31) &+ UInt32($1) } % 250))"
        status["podIP"] = .string(ip)
        status["podIPs"] = [["ip": .string(ip)]]
        if status["startTime"] == nil { status["startTime"] = .string(ClusterStore.timestamp(earliest ?? now)) }
        status["containerStatuses"] = .array(statuses)
        let done = phase == "Succeeded" || phase == "Failed"
        let reason: String? = done ? "PodCompleted" : (allReady ? nil : "ContainersNotReady")
        let message: String? =
            done || allReady
            ? nil : "containers with unready status: [\(statuses.filter { $0["ready"] != true }.compactMap { $0["name"]?.stringValue }.joined(separator: " "))]"
        setCondition(&status, "PodReadyToStartContainers", !done)
        setCondition(&status, "Initialized", true, reason: done ? "PodCompleted" : nil)
        setCondition(&status, "Ready", allReady, reason: reason, message: message)
        setCondition(&status, "ContainersReady", allReady, reason: reason, message: message)
        setCondition(&status, "PodScheduled", true)
    }

    /// Sets one condition, keeping lastTransitionTime when its status did not change.
    static func setCondition(_ status: inout JSONValue, _ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) {
        var conditions = status["conditions"]?.arrayValue ?? []
        let text = value ? "True" : "False"
        let index = conditions.firstIndex { $0["type"]?.stringValue == type }
        var condition: JSONValue = ["type": .string(type), "status": .string(text), "lastProbeTime": .null]
        if let reason { condition["reason"] = .string(reason) }
        if let message { condition["message"] = .string(message) }
        if let index, conditions[index]["status"]?.stringValue == text, let since = conditions[index]["lastTransitionTime"] {
            condition["lastTransitionTime"] = since
        } else {
            condition["lastTransitionTime"] = .string(ClusterStore.timestamp(Date()))
        }
        if let index { conditions[index] = condition } else { conditions.append(condition) }
        status["conditions"] = .array(conditions)
    }

    /// Writes the status subresource; a no-op change stores nothing and emits no event.
    private func writeStatus(_ type: ResourceType, _ namespace: String, _ name: String, _ uid: String, _ change: @Sendable (inout JSONValue) -> Void) async {
        _ = try? await store.patch(type, namespace: namespace, name: name, target: .status) { old throws(APIError) in
            guard old[path: ["metadata", "uid"]]?.stringValue == uid else { throw .conflict(type, name) }
            var updated = old
            var status = old["status"] ?? [:]
            change(&status)
            updated["status"] = status
            return updated
        }
    }
}
