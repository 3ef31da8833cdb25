import Foundation
import KubeModels

/// What a CSI driver does to its backing storage when the provisioner stand-in creates or deletes a
/// PV. The Longhorn simulation registers its own hook for `driver.longhorn.io` (`LonghornCSIHook`),
/// to create and delete its Longhorn volumes; without it the default hook just manages the
/// volume's data directory.
public protocol VolumeProvisioningHook: Sendable {
    /// Creates the backing volume `handle` of `capacityBytes` for `claim`.
    func createVolume(handle: String, capacityBytes: Int64, claim: JSONValue) async throws
    /// Deletes the backing volume `handle` (the PV's reclaim policy is Delete).
    func deleteVolume(handle: String) async throws
}

/// The default hook: a volume is its directory under the cluster's data root.
public struct DirectoryVolumeHook: VolumeProvisioningHook {
    public let data: VolumeDataStore

    public init(data: VolumeDataStore) {
        self.data = data
    }

    public func createVolume(handle: String, capacityBytes: Int64, claim: JSONValue) async throws {
        _ = try data.directory(volumeKey: handle)
    }

    public func deleteVolume(handle: String) async throws {
        data.removeVolume(volumeKey: handle)
    }
}

/// The dynamic provisioners of the simulated cluster, by the `provisioner` name StorageClasses use.
public actor VolumeProvisioners {
    private var hooks: [String: any VolumeProvisioningHook] = [:]

    public init() {}

    /// Makes StorageClasses with `provisioner: driver` provisionable, calling `hook` for the storage.
    public func register(driver: String, hook: any VolumeProvisioningHook) {
        hooks[driver] = hook
    }

    public func hook(for driver: String) -> (any VolumeProvisioningHook)? {
        hooks[driver]
    }
}
