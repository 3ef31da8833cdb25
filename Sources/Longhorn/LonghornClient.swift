import Foundation
import KubeClient
import KubeModels

/// Longhorn semantics over a `KubeClient`, for one installed Longhorn version: finding backups,
/// taking snapshots and backups, restoring volumes and making their PVs, each wait bounded by a
/// timeout and built on watches.
///
/// There is deliberately no way to delete a Backup or BackupVolume here: deleting either CR
/// deletes the data in the backup store (longhorn-facts.md section 1.5).
public struct LonghornClient: Sendable {
    public let kube: KubeClient
    /// The Longhorn namespace, normally `longhorn-system`.
    public let namespace: String
    public let version: LonghornVersion
    /// The clock for timestamps written to Longhorn (`syncRequestedAt`) and compared with its own.
    public let now: @Sendable () -> Date

    public init(
        kube: KubeClient, namespace: String = LonghornResources.defaultNamespace, version: LonghornVersion,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.kube = kube
        self.namespace = namespace
        self.version = version
        self.now = now
    }

    /// A client for the Longhorn version installed in `namespace`.
    /// - Throws: `.unsupportedVersion` when the version cannot be read or is outside v1.6 – v1.12.
    public static func connect(
        kube: KubeClient, namespace: String = LonghornResources.defaultNamespace, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws(LonghornError) -> LonghornClient {
        let version = try await detectVersion(kube: kube, namespace: namespace)
        guard version.isSupported else {
            throw LonghornError(
                .unsupportedVersion, subject: "Longhorn in \(namespace)",
                detail: "is \(version); this tool knows v\(LonghornVersion.oldestSupported.major).\(LonghornVersion.oldestSupported.minor) to v1.12",
                hint: "upgrade Longhorn to a supported release, or check the namespace")
        }
        return LonghornClient(kube: kube, namespace: namespace, version: version, now: now)
    }

    /// Reads the installed version from the Setting `current-longhorn-version`, falling back to the
    /// image tag of DaemonSet `longhorn-manager` when the Setting is not there yet (early boot).
    public static func detectVersion(kube: KubeClient, namespace: String = LonghornResources.defaultNamespace) async throws(LonghornError) -> LonghornVersion {
        let subject = "\(LonghornResources.settings) \(namespace)/\(Setting.Name.currentLonghornVersion)"
        let object: JSONValue?
        do {
            // A missing Setting and a missing CRD both read as nil here; the fallback below covers both.
            object = try await kube.getIfPresent(LonghornResources.settings, namespace: namespace, name: Setting.Name.currentLonghornVersion)
        } catch {
            throw LonghornError.kube(error, subject: subject)
        }
        if let object, let value = try Setting(json: object).value.nilIfEmpty {
            return try LonghornVersion(parsing: value)
        }
        let manager: JSONValue?
        do {
            // A list narrowed to the name: the restore Job is granted list/watch on this DaemonSet, not get.
            manager = try await kube.listNamed(.daemonSets, namespace: namespace, name: Workload.managerName)
        } catch {
            throw LonghornError.kube(error, subject: "daemonsets.apps \(namespace)/\(Workload.managerName)")
        }
        let image = manager?[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"]?.stringValue
        if let image, let tag = image.split(separator: ":").last.map(String.init), image.contains(":"),
            let version = try? LonghornVersion(parsing: tag)
        {
            return version
        }
        throw LonghornError(
            .unsupportedVersion, subject: subject,
            detail: object == nil ? "does not exist, and no longhorn-manager image tag names a version" : "is empty",
            hint: "check that Longhorn is installed in namespace \(namespace) (`kubectl -n \(namespace) get settings.longhorn.io`)")
    }

    // MARK: - Typed reads

    /// The object named `name`, or nil when it does not exist.
    public func get<M: LonghornModel>(_ type: M.Type, _ name: String) async throws(LonghornError) -> M? {
        let object: JSONValue?
        do {
            object = try await kube.getIfPresent(M.resource, namespace: namespace, name: name)
        } catch {
            throw LonghornError.kube(error, subject: M.subject(namespace, name))
        }
        guard let object else { return nil }
        return try M(json: object)
    }

    /// Every object of a kind in the Longhorn namespace, optionally narrowed by a label selector.
    public func list<M: LonghornModel>(_ type: M.Type, labelSelector: String? = nil) async throws(LonghornError) -> [M] {
        let list: ObjectList
        do {
            list = try await kube.list(M.resource, namespace: namespace, labelSelector: labelSelector)
        } catch {
            throw LonghornError.kube(error, subject: "\(M.resource) in \(namespace)")
        }
        var models: [M] = []
        for item in list.items { models.append(try M(json: item)) }
        return models
    }

    func create<M: LonghornModel>(_ model: M, hint: String? = nil) async throws(LonghornError) -> M {
        do {
            return try M(json: try await kube.create(M.resource, namespace: namespace, object: model.json))
        } catch let error as LonghornError {
            throw error
        } catch let error as KubeClientError {
            throw LonghornError.kube(error, subject: model.subject, hint: hint)
        } catch {
            throw LonghornError(.kubernetes, subject: model.subject, detail: "\(error)")
        }
    }

    func mergePatch<M: LonghornModel>(_ type: M.Type, _ name: String, _ patch: JSONValue) async throws(LonghornError) -> M {
        do {
            return try M(json: try await kube.patch(M.resource, namespace: namespace, name: name, type: .merge, patch: patch))
        } catch let error as LonghornError {
            throw error
        } catch let error as KubeClientError {
            throw LonghornError.kube(error, subject: M.subject(namespace, name))
        } catch {
            throw LonghornError(.kubernetes, subject: M.subject(namespace, name), detail: "\(error)")
        }
    }

    // MARK: - Waiting

    /// How a wait judges one sighting of the object.
    enum Verdict<M: Sendable>: Sendable {
        /// Not there yet; the text says what it is doing now (used in progress and timeout messages).
        case waiting(String)
        case done(M)
        case failed(LonghornError)

        var isFinal: Bool {
            if case .waiting = self { return false }
            return true
        }
    }

    /// Watches one Longhorn object until `judge` calls it done or failed, or `timeout` passes.
    /// - Throws: the judge's failure; `.timeout` naming the last state and Longhorn's own words.
    func wait<M: LonghornModel>(
        _ type: M.Type, _ name: String, timeout: Duration, until condition: String, hint: String,
        judge: @escaping @Sendable (M?) -> Verdict<M>
    ) async throws(LonghornError) -> M {
        let subject = M.subject(namespace, name)
        let decodeAndJudge: @Sendable (JSONValue?) -> Verdict<M> = { object in
            guard let object else { return judge(nil) }
            do {
                return judge(try M(json: object))
            } catch {
                return .waiting("it has a shape this tool cannot read (\(error))")
            }
        }
        let seen: JSONValue?
        do {
            // Through the kind's shared informer: a hundred volumes waiting share one watch.
            seen = try await kube.waitFor(await kube.informer(M.resource, namespace: namespace), name: name, timeout: timeout, until: condition) {
                decodeAndJudge($0).isFinal
            }
        } catch {
            guard error.code == .timeout else { throw LonghornError.kube(error, subject: subject) }
            // Read it once more, so the message carries what Longhorn says now.
            let current = try? await kube.listNamed(M.resource, namespace: namespace, name: name)
            let state: String
            switch decodeAndJudge(current) {
            case .waiting(let text): state = text
            case .done(let model): return model
            case .failed(let failure): throw failure
            }
            throw LonghornError(.timeout, subject: subject, detail: "not \(condition) after \(Self.describe(timeout)); \(state)", hint: hint, underlying: error)
        }
        switch decodeAndJudge(seen) {
        case .done(let model): return model
        case .failed(let failure): throw failure
        case .waiting(let text):
            throw LonghornError(.timeout, subject: subject, detail: "the watch ended while \(text)", hint: hint)
        }
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds >= 120, seconds % 60 == 0 { return "\(seconds / 60)m" }
        if seconds >= 1 { return "\(seconds)s" }
        return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms"
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
