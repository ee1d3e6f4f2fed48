; Inno Setup script of the DeskOps Desktop installer (Inno Setup 6.3 or newer).
;
; Build on Windows, from the repository root, after the bundle:
;   bash packaging/build_bundle.sh          (or: .venv\Scripts\python -m PyInstaller deskops.spec)
;   iscc packaging\windows\deskops.iss      -> dist\installer\DeskOps-Setup-<version>.exe
;
; - Per user, no administrator rights: installs into %LOCALAPPDATA%\Programs\DeskOps, with a
;   Start menu shortcut and, if ticked, a desktop shortcut; the uninstaller is listed under
;   the user's "Installed apps".
; - The version comes from pyproject.toml: deskops.spec writes build\deskops-version.iss when
;   it builds the bundle. `iscc /DAppVersion=1.2.3 ...` overrides it.
; - The uninstaller removes the program only. The clerk's data (store, backups, settings, logs
;   in %LOCALAPPDATA%\DeskOps\DeskOps) and exports (Documents\DeskOps exports) are never
;   touched: they are not under {app} and no [UninstallDelete] entry names them.

#ifndef AppVersion
  #include "..\..\build\deskops-version.iss"
#endif

#define AppName "DeskOps Desktop"
#define AppExe "deskops.exe"
#define BundleDir "..\..\dist\deskops"

[Setup]
; Never change AppId: Windows recognises upgrades and the uninstaller by it.
AppId={{6F1C2B9E-4D7A-4E8B-9C55-3A1D2E7F0B41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=DeskOps
VersionInfoVersion={#AppVersion}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
DefaultDirName={localappdata}\Programs\DeskOps
DisableDirPage=yes
DefaultGroupName=DeskOps
DisableProgramGroupPage=yes
UninstallDisplayName={#AppName}
UninstallDisplayIcon={app}\{#AppExe}
SetupIconFile=..\..\build\deskops\icons\deskops.ico
OutputDir=..\..\dist\installer
OutputBaseFilename=DeskOps-Setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Close a running DeskOps before replacing its files (Restart Manager), and start it again.
CloseApplications=yes
RestartApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: files a newer PyInstaller build no longer ships must
; not linger next to the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\DeskOps"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "Daily production, dispatch and stock ledger"
Name: "{autodesktop}\DeskOps"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,DeskOps}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the program folder itself (empty once the uninstaller removed what it installed).
; Data, backups, logs and exports live elsewhere and stay.
Type: dirifempty; Name: "{app}"
