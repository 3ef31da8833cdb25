import Foundation
import KubeModels

/// A whole simulated cluster: the API store, the request log, fault switches, and the
/// controllers a real cluster runs (namespace lifecycle, CRD registration, ...).
public final class SimulatedCluster: Sendable {
    public let store: ClusterStore
    public let log: RequestLog
    public let faults: FaultInjector
    public let handler: APIHandler
    /// Runs pods' commands and serves logs and exec (the kubelet's container runtime).
    public let runtime: ContainerRuntime
    /// Dynamic provisioners by StorageClass `provisioner`; `driver.longhorn.io` is registered with a
    /// hook that manages the volume's data directory until a Longhorn simulation registers its own.
    public let provisioners: VolumeProvisioners
    /// The API server's address for pods, and the service-account tokens handed to them.
    public let access: ClusterAccess
    /// Set when the data root is a temporary directory this cluster made (and removes when it goes).
    private let ownsDataRoot: Bool
    /// Where volume content lives on the host.
    public var volumes: VolumeDataStore { runtime.data }

    /// - Parameters:
    ///   - dataRoot: where pod volumes live on the host; a fresh temporary directory when nil.
    ///   - requestLogPath: also write every request to this file, one JSON object per line.
    public init(historyLimit: Int = 10_000, dataRoot: URL? = nil, requestLogPath: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) async {
        let store = ClusterStore(historyLimit: historyLimit, now: now)
        self.store = store
        self.log = RequestLog(sinkPath: requestLogPath)
        self.faults = FaultInjector()
        let access = ClusterAccess()
        self.access = access
        let runtime = ContainerRuntime(store: store, data: dataRoot.map(VolumeDataStore.init(root:)) ?? .temporary(), access: access, now: now)
        self.ownsDataRoot = dataRoot == nil
        self.runtime = runtime
        self.handler = APIHandler(store: store, log: log, faults: faults, pods: runtime)
        self.provisioners = VolumeProvisioners()
        await provisioners.register(driver: "driver.longhorn.io", hook: DirectoryVolumeHook(data: runtime.data))
        await store.addAdmission(BuiltinDefaults())
        await store.addAdmission(StorageProtection.Admission())
        await Self.seed(store)
    }

    deinit {
        if ownsDataRoot { try? FileManager.default.removeItem(at: runtime.data.root) }
    }

    /// What every fresh cluster has: the standard namespaces.
    static func seed(_ store: ClusterStore) async {
        guard let namespaces = await store.type(group: "", resource: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? await store.create(namespaces, namespace: nil, object: ["metadata": ["name": .string(name)]])
        }
    }

    /// Runs the controllers until the calling task is cancelled.
    public func runControllers() async {
        await withTaskGroup(of: Void.self) { group in
            for controller in Controllers.all(self) {
                group.addTask { await controller.run() }
            }
        }
    }

    /// Runs `body` with the controllers going, then stops them.
    public func withControllers<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.runControllers()
                return nil
            }
            let result = try await body()
            group.cancelAll()
            return result
        }
    }
}
