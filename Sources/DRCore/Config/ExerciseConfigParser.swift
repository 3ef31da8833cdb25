import Foundation
import Yams

/// Reads an `ExerciseConfig` out of a YAML mapping, filling documented defaults.
struct ExerciseConfigParser {
    let reader: ConfigReader
    typealias Defaults = ExerciseConfig.Defaults

    func parse(_ top: ConfigMapping) -> ExerciseConfig? {
        top.rejectUnknownKeys([
            "apiVersion", "kind", "cluster", "workload", "workloads", "sentinel", "longhorn", "budgets", "report", "notify", "metrics", "state", "aws", "flux",
            "alertmanager",
        ])
        let cluster = parseCluster(top.mapping("cluster", required: true))
        let workloads = parseWorkloads(top)
        let sentinel = parseSentinel(top.mapping("sentinel"))
        let longhorn = parseLonghorn(top.mapping("longhorn"))
        let budgets = parseBudgets(top.mapping("budgets"))
        let report = parseReport(top.mapping("report"))
        let notify = parseNotify(top.mapping("notify"))
        let metrics = parseMetrics(top.mapping("metrics"))
        let aws = parseAWS(top.mapping("aws"))
        var stateDirectory: String?
        if let state = top.mapping("state") {
            state.rejectUnknownKeys(["directory"])
            stateDirectory = state.string("directory")
        }
        if let workloads, let sentinel, let smallest = workloads.map(\.size).min(), sentinel.size > smallest {
            reader.report(
                "sentinel.size", at: top.mapping("sentinel")?.value("size"),
                "expected at most the smallest volume's size (\(smallest)), found \(sentinel.size)")
        }
        if let endpoint = longhorn?.storeEndpoint, aws?.allowInsecureEndpoint != true, let refusal = EndpointPolicy.cleartextRefusal(endpoint) {
            reader.report(
                "longhorn.storeEndpoint", at: top.mapping("longhorn")?.value("storeEndpoint"), "the URL \(refusal)",
                hint: "or set aws.allowInsecureEndpoint: true if this network is yours")
        }
        let flux = parseFlux(top.mapping("flux"))
        let alertmanager = parseAlertmanager(top.mapping("alertmanager"))
        guard let cluster, let workloads, let sentinel, let longhorn, let budgets, let report, let notify, let metrics, let aws else {
            return nil
        }
        return ExerciseConfig(
            cluster: cluster, workloads: workloads, sentinel: sentinel, longhorn: longhorn, budgets: budgets,
            report: report, notify: notify, metrics: metrics, stateDirectory: stateDirectory, aws: aws, flux: flux,
            alertmanager: alertmanager)
    }

    private func parseFlux(_ map: ConfigMapping?) -> ExerciseConfig.Flux {
        guard let map else { return ExerciseConfig.Flux() }
        map.rejectUnknownKeys(["allowNotReady"])
        var allowed: [String] = []
        for (path, node) in map.list("allowNotReady") ?? [] {
            let parts = node.scalar?.string.split(separator: "/", omittingEmptySubsequences: false) ?? []
            guard let text = node.scalar?.string, (1...2).contains(parts.count), parts.allSatisfy({ KubernetesName.subdomainProblem(String($0)) == nil }) else {
                reader.report(path, at: node, "expected a Kustomization or HelmRelease as NAME or NAMESPACE/NAME")
                continue
            }
            allowed.append(text)
        }
        return ExerciseConfig.Flux(allowNotReady: allowed)
    }

    /// Absent = the check is off. The URL is shown in logs, errors and the journal, so it may
    /// carry no credentials; it is a base URL, so no query or fragment either.
    private func parseAlertmanager(_ map: ConfigMapping?) -> ExerciseConfig.Alertmanager? {
        guard let map else { return nil }
        map.rejectUnknownKeys(["url", "allowFiring", "caFile"])
        var ok = true
        let url = map.string("url", required: true)
        var plainHTTP = false
        if let url {
            let components = URLComponents(string: url)
            let scheme = components?.scheme?.lowercased()
            plainHTTP = scheme == "http"
            let problem: String? =
                if components?.host?.isEmpty != false || (scheme != "http" && scheme != "https") {
                    "expected an http(s) URL like https://alertmanager.example.org or http://10.0.0.5:9093"
                } else if components?.user != nil || components?.password != nil {
                    "expected a URL without a user or password: the URL is shown in logs and reports"
                } else if components?.query != nil || components?.fragment != nil {
                    "expected the Alertmanager's base URL, without a query or fragment (/api/v2/alerts is added to it)"
                } else {
                    nil
                }
            if let problem {
                reader.report(map.childPath("url"), at: map.value("url"), problem)
                ok = false
            }
        } else {
            ok = false
        }
        var allowed: [String] = []
        for (path, node) in map.list("allowFiring") ?? [] {
            guard case .scalar(let scalar) = node, !ConfigReader.isNull(node), !scalar.string.trimmingCharacters(in: .whitespaces).isEmpty else {
                reader.report(path, at: node, "expected an alert name (its alertname label), found \(ConfigReader.describe(node))")
                ok = false
                continue
            }
            if allowed.contains(scalar.string) {
                reader.report(path, at: node, "alert \(scalar.string) is listed twice")
                ok = false
                continue
            }
            allowed.append(scalar.string)
        }
        let caFile = map.string("caFile")
        if caFile != nil, plainHTTP {
            reader.report(
                map.childPath("caFile"), at: map.value("caFile"), "applies only to an https:// url; this one is plain http",
                hint: "use the Alertmanager's https:// URL, or drop caFile")
            ok = false
        }
        guard ok, let url else { return nil }
        return ExerciseConfig.Alertmanager(url: url, allowFiring: allowed, caFile: caFile)
    }

    private func parseCluster(_ map: ConfigMapping?) -> ExerciseConfig.Cluster? {
        guard let map else { return nil }
        map.rejectUnknownKeys(["name", "kubeconfig", "context", "destroy", "rebuild"])
        let name = map.name("name", required: true, rule: { KubernetesName.labelProblem($0) })
        let source = parseKubeconfig(map.mapping("kubeconfig"), cluster: name ?? "cluster")
        let allowExec = (map.mapping("kubeconfig")?.list("allowExec") ?? []).compactMap { $0.node.scalar?.string }
        let context = map.string("context")
        let destroy = map.has("destroy") ? map.command("destroy") : Defaults.destroy
        let rebuild = map.has("rebuild") ? map.command("rebuild") : Defaults.rebuild
        if !map.has("destroy"), map.keys.contains("destroy") {
            // `destroy:` written with no value: an empty command, not "use the default".
            reader.report(map.childPath("destroy"), at: map.node, "expected a command (a non-empty list whose first item is the program), found null")
            return nil
        }
        if !map.has("rebuild"), map.keys.contains("rebuild") {
            reader.report(map.childPath("rebuild"), at: map.node, "expected a command (a non-empty list whose first item is the program), found null")
            return nil
        }
        guard let name, let source, let destroy, let rebuild else { return nil }
        return ExerciseConfig.Cluster(name: name, kubeconfig: source, context: context, destroy: destroy, rebuild: rebuild, allowExec: allowExec)
    }

    private func parseKubeconfig(_ map: ConfigMapping?, cluster: String) -> ExerciseConfig.KubeconfigSource? {
        guard let map else {
            return .ssm(
                parameter: Defaults.ssmParameter(cluster: cluster), region: nil, profile: nil,
                path: Defaults.kubeconfigPath(cluster: cluster))
        }
        map.rejectUnknownKeys(["file", "command", "ssm", "allowExec"])
        let given = ["file", "command", "ssm"].filter { map.has($0) }
        guard given.count == 1 else {
            reader.report(
                map.path, at: map.node,
                given.isEmpty
                    ? "expected one of file, command or ssm, found none"
                    : "expected exactly one of file, command or ssm, found \(given.joined(separator: " and "))")
            return nil
        }
        switch given[0] {
        case "file":
            return map.string("file").map { .file(path: $0) }
        case "command":
            return map.command("command").map { .command($0) }
        default:
            guard let ssm = map.mapping("ssm") else { return nil }
            ssm.rejectUnknownKeys(["parameter", "region", "profile", "path"])
            let parameter = ssm.string("parameter") ?? Defaults.ssmParameter(cluster: cluster)
            if !parameter.hasPrefix("/") && parameter.contains("/") {
                reader.report(
                    ssm.childPath("parameter"), at: ssm.value("parameter"),
                    "expected a parameter name like /homelab/kubernetes/\(cluster)/kubeconfig (hierarchical names start with '/'), found \"\(parameter)\"")
            }
            return .ssm(
                parameter: parameter, region: ssm.string("region"), profile: ssm.string("profile"),
                path: ssm.string("path") ?? Defaults.kubeconfigPath(cluster: cluster))
        }
    }

    /// `workload:` (one) or `workloads:` (a list of the same mappings), not both; neither = the
    /// default workload. Volumes, PVCs and Deployments must be distinct.
    private func parseWorkloads(_ top: ConfigMapping) -> [ExerciseConfig.Workload]? {
        if top.has("workload"), top.has("workloads") {
            reader.report(
                "workloads", at: top.value("workloads"), "expected either workload or workloads, found both",
                hint: "move the single workload into the workloads list")
            return nil
        }
        guard top.has("workloads") else { return parseWorkload(top.mapping("workload")).map { [$0] } }
        guard let items = top.list("workloads") else { return nil }
        guard !items.isEmpty else {
            reader.report("workloads", at: top.value("workloads"), "expected at least one workload, found an empty list")
            return nil
        }
        var workloads: [ExerciseConfig.Workload] = []
        var ok = true
        var seen: [String: String] = [:]
        for item in items {
            guard let map = ConfigMapping(item.node, at: item.path, reader: reader), let workload = parseWorkload(map) else {
                ok = false
                continue
            }
            for (key, what) in [
                ("volume", "volume \(workload.volume)"), ("pvc", "PVC \(workload.namespace)/\(workload.pvc)"),
                ("deployment", "deployment \(workload.namespace)/\(workload.deployment)"),
            ] {
                if let first = seen[what] {
                    reader.report(
                        map.childPath(key), at: map.value(key) ?? map.node, "\(what) is declared twice (first at \(first))",
                        hint: "each workload needs its own volume, PVC and Deployment")
                    ok = false
                } else {
                    seen[what] = item.path
                }
            }
            workloads.append(workload)
        }
        return ok ? workloads : nil
    }

    private func parseWorkload(_ map: ConfigMapping?) -> ExerciseConfig.Workload? {
        guard let map else {
            return ExerciseConfig.Workload(
                namespace: Defaults.namespace, deployment: Defaults.namespace, pvc: "\(Defaults.namespace)-data",
                volume: "\(Defaults.namespace)-data", mountPath: Defaults.mountPath, size: Defaults.size,
                storageClass: Defaults.storageClass, image: Defaults.image)
        }
        map.rejectUnknownKeys(["namespace", "deployment", "pvc", "volume", "mountPath", "size", "storageClass", "image"])
        let namespace = map.name("namespace", rule: { KubernetesName.labelProblem($0) }) ?? (map.has("namespace") ? nil : Defaults.namespace)
        let deployment = map.name("deployment", rule: KubernetesName.subdomainProblem) ?? (map.has("deployment") ? nil : Defaults.namespace)
        let pvc = map.name("pvc", rule: KubernetesName.subdomainProblem) ?? (map.has("pvc") ? nil : "\(Defaults.namespace)-data")
        let volume =
            map.name("volume", rule: { KubernetesName.labelProblem($0, maxLength: KubernetesName.longhornVolumeMaxLength) })
            ?? (map.has("volume") ? nil : pvc)
        let mountPath = map.string("mountPath") ?? (map.has("mountPath") ? nil : Defaults.mountPath)
        if let mountPath, !mountPath.hasPrefix("/") {
            reader.report(map.childPath("mountPath"), at: map.value("mountPath"), "expected an absolute path, found \"\(mountPath)\"")
        }
        let size = map.quantity("size") ?? (map.has("size") ? nil : Defaults.size)
        let storageClass = map.name("storageClass", rule: KubernetesName.subdomainProblem) ?? (map.has("storageClass") ? nil : Defaults.storageClass)
        let image = map.string("image") ?? (map.has("image") ? nil : Defaults.image)
        guard let namespace, let deployment, let pvc, let volume, let mountPath, mountPath.hasPrefix("/"), let size,
            let storageClass, let image
        else { return nil }
        return ExerciseConfig.Workload(
            namespace: namespace, deployment: deployment, pvc: pvc, volume: volume, mountPath: mountPath, size: size,
            storageClass: storageClass, image: image)
    }

    private func parseSentinel(_ map: ConfigMapping?) -> ExerciseConfig.Sentinel? {
        guard let map else { return ExerciseConfig.Sentinel(file: Defaults.sentinelFile, size: Defaults.sentinelSize) }
        map.rejectUnknownKeys(["file", "size"])
        let file = map.string("file") ?? (map.has("file") ? nil : Defaults.sentinelFile)
        if let file, file.hasPrefix("/") || file.split(separator: "/").contains("..") {
            reader.report(
                map.childPath("file"), at: map.value("file"),
                "expected a path relative to the workload's mount path, without '..', found \"\(file)\"")
            return nil
        }
        let size = map.quantity("size") ?? (map.has("size") ? nil : Defaults.sentinelSize)
        guard let file, let size else { return nil }
        return ExerciseConfig.Sentinel(file: file, size: size)
    }

    private func parseLonghorn(_ map: ConfigMapping?) -> ExerciseConfig.LonghornTarget? {
        guard let map else { return ExerciseConfig.LonghornTarget(namespace: Defaults.longhornNamespace, backupTarget: Defaults.backupTarget) }
        map.rejectUnknownKeys(["namespace", "backupTarget", "storeEndpoint"])
        let namespace = map.name("namespace", rule: { KubernetesName.labelProblem($0) }) ?? (map.has("namespace") ? nil : Defaults.longhornNamespace)
        let target = map.name("backupTarget", rule: KubernetesName.subdomainProblem) ?? (map.has("backupTarget") ? nil : Defaults.backupTarget)
        let endpoint = map.string("storeEndpoint")
        if let endpoint, EndpointPolicy.cleartextRefusal(endpoint) == "is not a URL" || EndpointPolicy.cleartextRefusal(endpoint) == "is not an http(s) URL" {
            reader.report(map.childPath("storeEndpoint"), at: map.value("storeEndpoint"), "expected an http(s) URL")
            return nil
        }
        guard let namespace, let target else { return nil }
        return ExerciseConfig.LonghornTarget(namespace: namespace, backupTarget: target, storeEndpoint: endpoint)
    }

    private func parseBudgets(_ map: ConfigMapping?) -> ExerciseConfig.Budgets? {
        guard let map else { return ExerciseConfig.Budgets(total: Defaults.total, target: Defaults.target, phases: Defaults.phases) }
        map.rejectUnknownKeys(["total", "target", "stopGrace", "phases"])
        let total = map.duration("total") ?? (map.has("total") ? nil : Defaults.total)
        let target = map.duration("target") ?? (map.has("target") ? nil : Defaults.target)
        let stopGrace = map.duration("stopGrace") ?? (map.has("stopGrace") ? nil : Defaults.stopGrace)
        var phases = Defaults.phases
        var ok = true
        if let phaseMap = map.mapping("phases") {
            let names = ExercisePhase.allCases.map(\.rawValue)
            phaseMap.rejectUnknownKeys(names)
            for phase in ExercisePhase.allCases where phaseMap.has(phase.rawValue) {
                if let budget = phaseMap.duration(phase.rawValue) {
                    phases[phase] = budget
                    if let total, budget > total {
                        reader.report(
                            phaseMap.childPath(phase.rawValue), at: phaseMap.value(phase.rawValue),
                            "expected at most the total budget (\(DurationText.format(total))), found \(DurationText.format(budget))",
                            hint: "raise budgets.total or lower this phase's budget")
                        ok = false
                    }
                } else {
                    ok = false
                }
            }
        }
        // Defaults must not exceed a smaller total either: cap them silently, since the user
        // asked for the smaller total and did not set these phases.
        guard let total, let target, let stopGrace, ok else { return nil }
        for (phase, budget) in phases where budget > total && map.mapping("phases")?.has(phase.rawValue) != true {
            phases[phase] = total
        }
        return ExerciseConfig.Budgets(total: total, target: target, stopGrace: stopGrace, phases: phases)
    }

    private func parseReport(_ map: ConfigMapping?) -> ExerciseConfig.Report? {
        guard let map else { return ExerciseConfig.Report(directory: nil, formats: Defaults.formats) }
        map.rejectUnknownKeys(["directory", "formats"])
        let directory = map.string("directory")
        var formats = Defaults.formats
        if let items = map.list("formats") {
            formats = []
            let allowed = ExerciseConfig.ReportFormat.allCases.map(\.rawValue)
            for item in items {
                guard let text = item.node.scalar?.string, let format = ExerciseConfig.ReportFormat(rawValue: text) else {
                    reader.report(item.path, at: item.node, "expected one of \(allowed.joined(separator: ", ")), found \(ConfigReader.describe(item.node))")
                    return nil
                }
                if formats.contains(format) {
                    reader.report(item.path, at: item.node, "format \(text) is listed twice")
                    return nil
                }
                formats.append(format)
            }
            if formats.isEmpty {
                reader.report(map.childPath("formats"), at: map.value("formats"), "expected at least one format, found an empty list")
                return nil
            }
        } else if map.keys.contains("formats") && !map.has("formats") {
            reader.report(map.childPath("formats"), at: map.node, "expected a list of formats, found null")
            return nil
        }
        return ExerciseConfig.Report(directory: directory, formats: formats)
    }

    private func parseNotify(_ map: ConfigMapping?) -> ExerciseConfig.Notify? {
        guard let map else { return ExerciseConfig.Notify() }
        map.rejectUnknownKeys(["webhook", "discord"])
        var notify = ExerciseConfig.Notify()
        for key in ["webhook", "discord"] {
            guard let hook = map.mapping(key) else { continue }
            guard let url = parseSecretURL(hook) else { return nil }
            if key == "webhook" { notify.webhook = url } else { notify.discord = url }
        }
        return notify
    }

    /// `{url | urlFromEnv | urlFile}`: exactly one.
    private func parseSecretURL(_ hook: ConfigMapping) -> SecretURL? {
        hook.rejectUnknownKeys(["url", "urlFromEnv", "urlFile"])
        switch (hook.string("url"), hook.string("urlFromEnv"), hook.string("urlFile")) {
        case (let url?, nil, nil):
            guard checkURL(url, at: hook, key: "url") else { return nil }
            return .url(url)
        case (nil, let variable?, nil):
            guard !variable.isEmpty, variable.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                reader.report(hook.childPath("urlFromEnv"), at: hook.value("urlFromEnv"), "expected an environment variable name, found \"\(variable)\"")
                return nil
            }
            return .environment(variable)
        case (nil, nil, let path?):
            return .file(path)
        default:
            reader.report(
                hook.path, at: hook.node, "expected exactly one of url, urlFromEnv or urlFile",
                hint: "webhook URLs are secrets: prefer urlFromEnv or urlFile (a mounted Secret) so the URL stays out of git")
            return nil
        }
    }

    private func parseMetrics(_ map: ConfigMapping?) -> ExerciseConfig.Metrics? {
        guard let map else { return ExerciseConfig.Metrics(textfile: nil, pushgateway: nil) }
        map.rejectUnknownKeys(["textfile", "pushgateway"])
        let textfile = map.string("textfile")
        if let textfile, !textfile.hasSuffix(".prom") {
            reader.report(
                map.childPath("textfile"), at: map.value("textfile"),
                "expected a file name ending in .prom (the textfile collector reads only those), found \"\(textfile)\"")
            return nil
        }
        let pushgateway = map.string("pushgateway")
        if let pushgateway, !checkURL(pushgateway, at: map, key: "pushgateway") { return nil }
        return ExerciseConfig.Metrics(textfile: textfile, pushgateway: pushgateway)
    }

    private func parseAWS(_ map: ConfigMapping?) -> ExerciseConfig.AWSAccess? {
        guard let map else { return ExerciseConfig.AWSAccess() }
        map.rejectUnknownKeys(["credentials", "profile", "allowInsecureEndpoint"])
        var credentials = ExerciseConfig.AWSAccess.Credentials.chain
        if let text = map.string("credentials") {
            guard let parsed = ExerciseConfig.AWSAccess.Credentials(rawValue: text) else {
                let allowed = ExerciseConfig.AWSAccess.Credentials.allCases.map(\.rawValue).joined(separator: ", ")
                reader.report(
                    map.childPath("credentials"), at: map.value("credentials"), "expected one of \(allowed), found \"\(text)\"",
                    hint: "aws-cli handles SSO, role_arn and credential_process profiles")
                return nil
            }
            credentials = parsed
        }
        return ExerciseConfig.AWSAccess(
            credentials: credentials, profile: map.string("profile"),
            allowInsecureEndpoint: map.bool("allowInsecureEndpoint") ?? false)
    }

    /// Never echoes the value: webhook URLs carry their secret in the path.
    private func checkURL(_ text: String, at map: ConfigMapping, key: String) -> Bool {
        if let refusal = EndpointPolicy.cleartextRefusal(text) {
            reader.report(map.childPath(key), at: map.value(key), "the URL \(refusal)")
            return false
        }
        return true
    }
}
