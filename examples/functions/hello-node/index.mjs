export const handler = async (event) => {
  const name = (event && event.name) || 'world';
  console.log('greeting', name);
  return { greeting: `Hello, ${name}!` };
};
