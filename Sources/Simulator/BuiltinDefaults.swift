import KubeModels

/// The defaulting and validation the real apiserver applies to built-in kinds (the subset our
/// flows read back), including the DefaultStorageClass admission plugin and immutable fields.
struct BuiltinDefaults: AdmissionPlugin {
    func admit(_ object: inout JSONValue, operation: AdmissionOperation, type: ResourceType, old: JSONValue?, store: isolated ClusterStore) throws(APIError) {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if operation == .update, let old {
            try checkImmutable(type, name: name, old: old, new: object)
        }
        switch (type.group, type.resource) {
        case ("", "namespaces") where operation == .create:
            object[path: ["spec", "finalizers"]] = ["kubernetes"]
            object[path: ["status", "phase"]] = "Active"
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
        case ("", "pods"):
            defaultPod(&object, creating: operation == .create)
        case ("apps", "deployments"):
            setDefault(&object, ["spec", "replicas"], 1)
            setDefault(&object, ["spec", "revisionHistoryLimit"], 10)
            setDefault(&object, ["spec", "progressDeadlineSeconds"], 600)
            if object[path: ["spec", "strategy"]] == nil {
                object[path: ["spec", "strategy"]] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]
            }
            if var template = object[path: ["spec", "template"]] {
                defaultPodSpec(&template)
                object[path: ["spec", "template"]] = template
            }
        case ("batch", "jobs"):
            setDefault(&object, ["spec", "completions"], 1)
            setDefault(&object, ["spec", "parallelism"], 1)
            setDefault(&object, ["spec", "backoffLimit"], 6)
            setDefault(&object, ["spec", "completionMode"], "NonIndexed")
            setDefault(&object, ["spec", "suspend"], false)
            // Like the Job strategy: unless manualSelector, the selector is the job's uid, and the
            // template carries the labels it selects (kubectl logs job/x finds pods through it).
            if operation == .create, object[path: ["spec", "manualSelector"]]?.boolValue != true,
                let uid = object[path: ["metadata", "uid"]]?.stringValue
            {
                object[path: ["spec", "selector"]] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
                for (key, value) in ["batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name, "controller-uid": uid, "job-name": name] {
                    object[path: ["spec", "template", "metadata", "labels", key]] = .string(value)
                }
            }
            if var template = object[path: ["spec", "template"]] {
                defaultPodSpec(&template)
                object[path: ["spec", "template"]] = template
            }
        case ("batch", "cronjobs"):
            // As the apiserver's CronJob defaults (batch/v1): nothing runs on a schedule here;
            // `kubectl create job --from=cronjob/NAME` makes its Job, as users try one by hand.
            setDefault(&object, ["spec", "concurrencyPolicy"], "Allow")
            setDefault(&object, ["spec", "suspend"], false)
            setDefault(&object, ["spec", "successfulJobsHistoryLimit"], 3)
            setDefault(&object, ["spec", "failedJobsHistoryLimit"], 1)
            if var template = object[path: ["spec", "jobTemplate", "spec", "template"]] {
                defaultPodSpec(&template)
                object[path: ["spec", "jobTemplate", "spec", "template"]] = template
            }
        case ("", "persistentvolumeclaims") where operation == .create:
            setDefault(&object, ["spec", "volumeMode"], "Filesystem")
            if object[path: ["spec", "storageClassName"]] == nil, let storageClasses = store.type(group: "storage.k8s.io", resource: "storageclasses"),
                let defaultClass = (try? store.list(storageClasses, namespace: nil).items)?.first(where: {
                    $0[path: ["metadata", "annotations", StorageClassAdmission.defaultAnnotation]]?.stringValue == "true"
                })
            {
                object[path: ["spec", "storageClassName"]] = defaultClass[path: ["metadata", "name"]]
            }
            object[path: ["status", "phase"]] = "Pending"
        case ("", "persistentvolumes") where operation == .create:
            setDefault(&object, ["spec", "volumeMode"], "Filesystem")
            setDefault(&object, ["spec", "persistentVolumeReclaimPolicy"], "Retain")
            object[path: ["status", "phase"]] = "Pending"
        case ("storage.k8s.io", "storageclasses") where operation == .create:
            setDefault(&object, ["reclaimPolicy"], "Delete")
            setDefault(&object, ["volumeBindingMode"], "Immediate")
        default: break
        }
    }

    private func setDefault(_ object: inout JSONValue, _ path: [String], _ value: JSONValue) {
        if object[path: path] == nil { object[path: path] = value }
    }

    private func defaultPod(_ pod: inout JSONValue, creating: Bool) {
        defaultPodSpec(&pod)
        if creating {
            setDefault(&pod, ["spec", "serviceAccountName"], "default")
            pod[path: ["status"]] = ["phase": "Pending", "qosClass": "BestEffort"]
        }
    }

    /// Works on a pod or a pod template: both keep the pod spec under `spec`.
    private func defaultPodSpec(_ pod: inout JSONValue) {
        setDefault(&pod, ["spec", "restartPolicy"], "Always")
        setDefault(&pod, ["spec", "dnsPolicy"], "ClusterFirst")
        setDefault(&pod, ["spec", "schedulerName"], "default-scheduler")
        setDefault(&pod, ["spec", "terminationGracePeriodSeconds"], 30)
        setDefault(&pod, ["spec", "securityContext"], [:])
        for list in ["containers", "initContainers"] {
            guard let containers = pod[path: ["spec", list]]?.arrayValue else { continue }
            pod[path: ["spec", list]] = .array(
                containers.map { container in
                    var container = container
                    if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
                    if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
                    if container["resources"] == nil { container["resources"] = [:] }
                    if let ports = container["ports"]?.arrayValue {
                        container["ports"] = .array(
                            ports.map { port in
                                var port = port
                                if port["protocol"] == nil { port["protocol"] = "TCP" }
                                return port
                            })
                    }
                    if container["imagePullPolicy"] == nil {
                        let image = container["image"]?.stringValue ?? ""
                        let tag = image.split(separator: "/").last?.split(separator: ":").dropFirst().first
                        container["imagePullPolicy"] = (tag == nil || tag == "latest") ? "Always" : "IfNotPresent"
                    }
                    return container
                })
        }
    }

    private func checkImmutable(_ type: ResourceType, name: String, old: JSONValue, new: JSONValue) throws(APIError) {
        switch (type.group, type.resource) {
        case ("", "persistentvolumeclaims"):
            var before = old["spec"] ?? [:]
            var after = new["spec"] ?? [:]
            for spec in [0, 1] {
                var value = spec == 0 ? before : after
                value[path: ["resources", "requests"]] = nil
                value["volumeAttributesClassName"] = nil
                if spec == 0 { before = value } else { after = value }
            }
            // The binder may fill in volumeName once.
            if (before["volumeName"]?.stringValue ?? "").isEmpty { before["volumeName"] = after["volumeName"] }
            if before != after {
                throw .invalid(
                    type, name,
                    causes: [
                        (
                            "spec", "FieldValueForbidden",
                            "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
                        )
                    ])
            }
        case ("batch", "jobs"):
            if old[path: ["spec", "template"]] != new[path: ["spec", "template"]] {
                throw .invalid(type, name, causes: [("spec.template", "FieldValueInvalid", "Invalid value: field is immutable")])
            }
        case ("apps", "deployments"):
            if old[path: ["spec", "selector"]] != new[path: ["spec", "selector"]] {
                throw .invalid(type, name, causes: [("spec.selector", "FieldValueInvalid", "Invalid value: field is immutable")])
            }
        case ("storage.k8s.io", "storageclasses"):
            for field in ["parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"] where old[field] != new[field] {
                throw .invalid(type, name, causes: [(field, "FieldValueForbidden", "Forbidden: updates to \(field) are forbidden.")])
            }
        case ("", "configmaps"), ("", "secrets"):
            if old["immutable"]?.boolValue == true {
                for field in ["data", "binaryData", "immutable"] where old[field] != new[field] {
                    throw .invalid(type, name, causes: [(field, "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set")])
                }
            }
        default: break
        }
    }
}
