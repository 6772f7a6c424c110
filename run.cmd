@echo off
rem Starts Unimatte on Windows, as run.sh does elsewhere: port 8080 (PORT overrides), builds if
rem needed, the server fetches and imports its models with npm on its first start.
rem Extra arguments override config.json, e.g.  run.cmd --inference.maxBatchSize=8
rem Environment: JAVA_OPTS (JVM options, replace the defaults), MAVEN_ARGS (extra mvn options).
setlocal
cd /d "%~dp0"

where java >nul 2>nul || (echo run.cmd: 'java' is required ^(Java 17 or newer^) 1>&2 & exit /b 1)
where mvn >nul 2>nul || (echo run.cmd: 'mvn' is required ^(Apache Maven 3.8+^) 1>&2 & exit /b 1)
where npm >nul 2>nul || (echo run.cmd: 'npm' is required ^(Node.js/npm: used once to fetch the model weights^) 1>&2 & exit /b 1)

set "JAR=target\unimatte.jar"
set "BUILD="
if not exist "%JAR%" set "BUILD=1"
if not exist "target\lib" set "BUILD=1"
if not defined BUILD (
  rem a source newer than the jar: cmd cannot compare file times, PowerShell (in every Windows) can
  powershell -NoProfile -NonInteractive -Command "$j=(Get-Item 'target\unimatte.jar').LastWriteTime; if (Get-ChildItem -Recurse -File src,pom.xml | Where-Object { $_.LastWriteTime -gt $j } | Select-Object -First 1) { exit 1 }" || set "BUILD=1"
)
if defined BUILD (
  echo run.cmd: building ^(mvn package, tests skipped^) ... 1>&2
  rem mvn is a batch file: without "call" this script would end with it
  call mvn -q -B -DskipTests package %MAVEN_ARGS% || exit /b 1
)

if not defined TF_CPP_MIN_LOG_LEVEL set "TF_CPP_MIN_LOG_LEVEL=2"
rem oneDNN kernels (docs/PERFORMANCE.md); TensorFlow reads this when its native library loads
if not defined TF_ENABLE_ONEDNN_OPTS set "TF_ENABLE_ONEDNN_OPTS=1"
rem Java heap: 1/12 of the machine's memory within 1-4 GB, as run.sh (docs/PERFORMANCE.md, "Memory");
rem when idle a GC every 5 s gives the unused heap back
set "HEAP_MB=1024"
set "MEM_MB="
for /f "usebackq delims=" %%m in (`powershell -NoProfile -NonInteractive -Command "[int64]((Get-CimInstance Win32_ComputerSystem).TotalPhysicalMemory / 1MB)"`) do set "MEM_MB=%%m"
if defined MEM_MB set /a HEAP_MB=MEM_MB/12
if %HEAP_MB% LSS 1024 set "HEAP_MB=1024"
if %HEAP_MB% GTR 4096 set "HEAP_MB=4096"
if not defined JAVA_OPTS set "JAVA_OPTS=-Xmx%HEAP_MB%m -XX:+UseG1GC -XX:G1PeriodicGCInterval=5000"

java %JAVA_OPTS% -jar "%JAR%" %*
exit /b %ERRORLEVEL%
