import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels

/// What an exercise that did not PASS leaves beside its reports, for the person who has to find
/// out why (`docs/runbook.md`): the cluster's Events and the objects the exercise worked with
/// (Longhorn Volumes, Backups, BackupVolumes, BackupTargets; the restore Job, its pods and their
/// logs; the workloads' Deployments, pods, PVCs and the PVs; the restore status ConfigMap; Flux
/// Kustomizations and HelmReleases) and a copy of the journal.
///
/// Never a Secret: none is read. What could still carry one is scrubbed: managedFields and the
/// last-applied annotation are dropped, env values whose name looks secret become `***`, and
/// logs have `NAME=value` pairs with secret-looking names, bearer tokens and JWTs replaced.
/// Folder 0700, files 0600. Each part is collected on its own: a part that fails is named in
/// `README.txt`, the others are still written.
public struct ForensicsBundle: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// One list to take: a kind in some namespaces (nil: cluster-wide), optionally one name or a
    /// label selector.
    struct Part: Sendable {
        var file: String
        var apiVersion: String
        var kind: String
        var namespaces: [String?]
        var name: String? = nil
        var labelSelector: String? = nil
    }

    static func parts(config: ExerciseConfig, restoreJob: String, statusConfigMap: String) -> [Part] {
        let longhorn = config.longhorn.namespace
        let workloads = Array(Set(config.workloads.map(\.namespace))).sorted()
        let everywhere: [String?] = [longhorn, "flux-system"] + workloads.map { $0 }
        return [
            Part(file: "events.json", apiVersion: "v1", kind: "Event", namespaces: everywhere),
            Part(file: "longhorn-volumes.json", apiVersion: "longhorn.io/v1beta2", kind: "Volume", namespaces: [longhorn]),
            Part(file: "longhorn-backups.json", apiVersion: "longhorn.io/v1beta2", kind: "Backup", namespaces: [longhorn]),
            Part(file: "longhorn-backupvolumes.json", apiVersion: "longhorn.io/v1beta2", kind: "BackupVolume", namespaces: [longhorn]),
            Part(file: "longhorn-backuptargets.json", apiVersion: "longhorn.io/v1beta2", kind: "BackupTarget", namespaces: [longhorn]),
            Part(file: "restore-job.json", apiVersion: "batch/v1", kind: "Job", namespaces: [longhorn], name: restoreJob),
            Part(file: "restore-job-pods.json", apiVersion: "v1", kind: "Pod", namespaces: [longhorn], labelSelector: "job-name=\(restoreJob)"),
            Part(file: "restore-status.json", apiVersion: "v1", kind: "ConfigMap", namespaces: [longhorn], name: statusConfigMap),
            Part(file: "workload-deployments.json", apiVersion: "apps/v1", kind: "Deployment", namespaces: workloads.map { $0 }),
            Part(file: "workload-pods.json", apiVersion: "v1", kind: "Pod", namespaces: workloads.map { $0 }),
            Part(file: "workload-pvcs.json", apiVersion: "v1", kind: "PersistentVolumeClaim", namespaces: workloads.map { $0 }),
            Part(file: "persistentvolumes.json", apiVersion: "v1", kind: "PersistentVolume", namespaces: [nil]),
            Part(file: "flux-kustomizations.json", apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", namespaces: [nil]),
            Part(file: "flux-helmreleases.json", apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", namespaces: [nil]),
        ]
    }

    /// Collects what `client` can read; returns the folder. `connectionProblem` is written instead
    /// of the cluster's parts when there was no cluster to ask.
    public func collect(
        client: KubeClient?, connectionProblem: String?, config: ExerciseConfig, restoreJob: String, statusConfigMap: String, journal: URL?
    ) async throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var index: [String] = ["longhorn-dr forensics for cluster \(config.cluster.name), collected \(ISO8601DateFormatter().string(from: Date()))", ""]
        if let journal, let data = try? Data(contentsOf: journal) {
            try write(data, "journal.json")
            index.append("journal.json: the exercise journal (every phase's evidence)")
        }
        if let client {
            for part in Self.parts(config: config, restoreJob: restoreJob, statusConfigMap: statusConfigMap) {
                do {
                    let items = try await list(part, client: client)
                    guard let items else {
                        index.append("\(part.file): not served by this cluster (\(part.kind).\(part.apiVersion))")
                        continue
                    }
                    try write(Self.pretty(JSONValue.array(items.map(Self.scrubbed))), part.file)
                    index.append("\(part.file): \(items.count) \(part.kind)(s)")
                } catch {
                    index.append("\(part.file): could not be read: \(error)")
                }
            }
            await collectLogs(client: client, namespace: config.longhorn.namespace, restoreJob: restoreJob, index: &index)
        } else {
            index.append("no cluster objects: \(connectionProblem ?? "no cluster to ask")")
        }
        index.append("")
        index.append("Secrets are never collected; env values and log words that look secret are replaced by ***.")
        try write(Data(index.joined(separator: "\n").utf8), "README.txt")
        return folder
    }

    private func list(_ part: Part, client: KubeClient) async throws -> [JSONValue]? {
        guard let resource = try await client.resource(apiVersion: part.apiVersion, kind: part.kind) else { return nil }
        var items: [JSONValue] = []
        for namespace in part.namespaces {
            if let name = part.name {
                if let object = try await client.getIfPresent(resource, namespace: namespace, name: name) { items.append(object) }
            } else {
                items += try await client.list(resource, namespace: resource.namespaced ? namespace : nil, labelSelector: part.labelSelector).items
            }
        }
        return items
    }

    private func collectLogs(client: KubeClient, namespace: String, restoreJob: String, index: inout [String]) async {
        let pods = (try? await client.list(.pods, namespace: namespace, labelSelector: "job-name=\(restoreJob)").items) ?? []
        for pod in pods {
            guard let name = pod[path: ["metadata", "name"]]?.stringValue else { continue }
            let file = "restore-job-\(name).log"
            do {
                let text = try await client.logs(namespace: namespace, pod: name)
                try write(Data(Self.scrubbed(log: text).utf8), file)
                index.append("\(file): the restore orchestrator's log")
            } catch {
                index.append("\(file): could not be read: \(error)")
            }
        }
    }

    private func write(_ data: Data, _ name: String) throws {
        try AtomicFile.write(data, to: folder.appendingPathComponent(name), mode: 0o600)
    }

    /// Indented, keys sorted: these files are read by people.
    static func pretty(_ value: JSONValue) -> Data {
        let compact = value.encoded()
        guard let object = try? JSONSerialization.jsonObject(with: compact, options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
        else { return compact }
        return data
    }

    /// The object without what may carry a secret or only adds noise.
    static func scrubbed(_ object: JSONValue) -> JSONValue {
        var object = object
        object[path: ["metadata", "managedFields"]] = nil
        object[path: ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]] = nil
        return scrubEnvironment(object)
    }

    /// Every `env` list anywhere in the object: values of secret-looking names become `***`.
    static func scrubEnvironment(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var fields):
            for (key, field) in fields {
                if key == "env", let entries = field.arrayValue {
                    fields[key] = .array(
                        entries.map { entry in
                            var entry = entry
                            if let name = entry["name"]?.stringValue, CommandText.isSecretName(name), entry["value"] != nil { entry["value"] = "***" }
                            return entry
                        })
                } else {
                    fields[key] = scrubEnvironment(field)
                }
            }
            return .object(fields)
        case .array(let items): return .array(items.map(scrubEnvironment))
        default: return value
        }
    }

    /// A log with secret-looking `NAME=value` pairs, `Bearer` tokens and JWTs replaced.
    static func scrubbed(log: String) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var hideNext = false
            return line.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
                if hideNext {
                    hideNext = false
                    return "***"
                }
                if word == "Bearer" || word == "bearer" {
                    hideNext = true
                    return String(word)
                }
                if word.hasPrefix("eyJ"), word.count >= 32 { return "***" }
                if let equals = word.firstIndex(of: "="), !word.contains("://"), CommandText.isSecretName(word[..<equals]) {
                    return "\(word[..<equals])=***"
                }
                return String(word)
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
