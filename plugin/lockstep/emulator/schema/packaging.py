"""The objects a package's owner org (packaging org or Dev Hub) serves about its subscriber fleet.

``PackageSubscriber`` (one row per installation), ``MetadataPackage`` and
``MetadataPackageVersion`` (the packages and versions uploaded from this org), and the push
upgrade objects ``PackagePushRequest`` -> ``PackagePushJob`` -> ``PackagePushError``, with the
field names, picklists and relationships of the object reference.
"""

from __future__ import annotations

from lockstep.emulator.schema.model import BOTH, DATA, SObject, sobject

__all__ = ["ERROR_TYPES", "ORG_STATUSES", "ORG_TYPES", "PACKAGING_OBJECTS", "PUSH_STATUSES"]

ORG_TYPES = ("Production", "Sandbox")
ORG_STATUSES = ("Active", "Demo", "Free", "Inactive", "Trial")
PUSH_STATUSES = ("Canceled", "Created", "Failed", "In Progress", "Pending", "Succeeded")
ERROR_TYPES = ("ApexTestFailure", "DeployError", "FeatureMissing", "IneligibleUpgrade", "LimitExceeded",
               "LockingFailure", "PACError", "UnclassifiedError")
ERROR_SEVERITIES = ("Error", "Warning")

PACKAGING_OBJECTS: list[SObject] = [
    sobject("MetadataPackage", "033", BOTH, string="Name NamespacePrefix", picklist="PackageCategory"),
    sobject(
        "MetadataPackageVersion", "04t", BOTH,
        parents={"MetadataPackage": ("MetadataPackageId", "MetadataPackage")},
        string="Name", picklist="ReleaseState", int="MajorVersion MinorVersion PatchVersion BuildNumber",
        boolean="IsDeprecated",
    ),
    sobject(
        "PackageSubscriber", "0Hb", DATA,
        parents={"MetadataPackage": ("MetadataPackageId", "MetadataPackage"),
                 "MetadataPackageVersion": ("MetadataPackageVersionId", "MetadataPackageVersion")},
        string="OrgKey OrgName InstanceName ParentOrg",
        picklist="InstalledStatus OrgStatus OrgType CustomUpgradeType",
        boolean="HasRestrictionEnabled",
    ),
    sobject(
        "PackagePushRequest", "0DV", DATA,
        parents={"PackageVersion": ("PackageVersionId", "MetadataPackageVersion")},
        picklist="Status", datetime="ScheduledStartTime",
    ),
    sobject(
        "PackagePushJob", "0DX", DATA,
        parents={"PackagePushRequest": ("PackagePushRequestId", "PackagePushRequest")},
        children={"PackagePushErrors": ("PackagePushError", "PackagePushJobId")},
        string="SubscriberOrganizationKey", picklist="Status", datetime="StartTime EndTime", int="DurationSeconds",
    ),
    sobject(
        "PackagePushError", "0DY", DATA,
        parents={"PackagePushJob": ("PackagePushJobId", "PackagePushJob")},
        string="ErrorTitle ErrorMessage ErrorDetails", picklist="ErrorSeverity ErrorType",
    ),
]
