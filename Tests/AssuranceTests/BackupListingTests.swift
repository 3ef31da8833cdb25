import Assurance
import Backupstore
import DRCore
import Foundation
import Testing

/// `backup list`: each volume's backups newest first, as the store holds them and as the cluster
/// knows them, with where they agree.
@Suite struct BackupListingTests {
    typealias Fixture = AssuranceRunTests.Fixture

    @Test func storeAndClusterRowsAreMatchedByNameNewestFirst() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1, age: .seconds(7200))
        try await fixture.backup("photos", name: "b2", blocks: 2, seed: 2, age: .seconds(600))
        try await fixture.backup("pgdata", name: "p1", blocks: 1, seed: 3, age: .seconds(60))
        // The cluster knows b1 and a b9 the store lacks; not b2 (not synced yet), nor pgdata's.
        let view = ClusterCrossCheckTests.view(backups: [("photos", "b1", 7200), ("photos", "b9", 30)])
        let listing = await BackupListing.read(
            volumes: ["photos", "pgdata", "music"], reader: fixture.reader, target: ClusterCrossCheckTests.store, cluster: view,
            now: AssuranceRunTests.now)
        #expect(listing.rows.map(\.backup) == ["b9", "b2", "b1", "p1"])
        #expect(listing.rows.map(\.agreement) == ["cluster only", "store only", "both", "store only"])
        #expect(listing.rows.map(\.store) == ["-", "Completed", "Completed", "Completed"])
        #expect(listing.rows.map(\.cluster) == ["Completed", "-", "Completed", "-"])
        #expect(listing.rows[1].age == .seconds(600))
        #expect(listing.rows[1].size == 2 * Int64(AssuranceRunTests.blockSize))
        #expect(listing.exitStatus == .ok)
        let text = listing.text()
        #expect(text.hasPrefix("VOLUME"), "\(text)")
        #expect(text.contains("photos  b2"), "\(text)")
        #expect(text.contains("store only"), "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(listing.json().utf8)) as? [String: Any])
        #expect((json["backups"] as? [[String: Any]])?.count == 4)
    }

    @Test func withoutTheClusterThereIsNoAgreementColumn() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 1, seed: 1)
        let listing = await BackupListing.read(
            volumes: ["photos"], reader: fixture.reader, target: ClusterCrossCheckTests.store, cluster: nil, now: AssuranceRunTests.now)
        #expect(listing.rows.map(\.agreement) == [nil])
        #expect(!listing.text().contains("AGREE"))
        let empty = await BackupListing.read(
            volumes: ["music"], reader: fixture.reader, target: ClusterCrossCheckTests.store, cluster: nil, now: AssuranceRunTests.now)
        #expect(empty.text().contains("(no backups of the declared volumes in s3://bucket@us-east-1/dr/)"), "\(empty.text())")
    }

    @Test func aDamagedCfgIsListedAsDamagedAndTheRestStillListed() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 1, seed: 1)
        try await fixture.backup("photos", name: "b2", blocks: 1, seed: 2, age: .seconds(60))
        try await fixture.store.put(fixture.layout.backupConfigKey(volume: "photos", backup: "b2"), data: Data("{not json".utf8))
        let listing = await BackupListing.read(
            volumes: ["photos"], reader: fixture.reader, target: ClusterCrossCheckTests.store, cluster: nil, now: AssuranceRunTests.now)
        #expect(listing.rows.count == 2)
        #expect(listing.rows.contains { $0.backup == "b2" && $0.store.hasPrefix("damaged: ") }, "\(listing.rows)")
        #expect(listing.rows.contains { $0.backup == "b1" && $0.store == "Completed" })
    }
}
