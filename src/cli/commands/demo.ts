export async function demoCommand(_: { argv: Record<string, unknown> }): Promise<number> {
  const { runDemo } = await import('../../lab/demo.js');
  return runDemo(_.argv);
}
